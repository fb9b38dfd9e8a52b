package classify

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

// TestSaidMentionsMemo: the remembered components of an earlier message
// are what reading it again finds, and the memory stays bounded.
func TestSaidMentionsMemo(t *testing.T) {
	texts := []string{"HDFS 写不进去了", "hive 查询全部超时", "yarn and kafka are down", "集群全部宕机了", strings.Repeat("hbase 挂了 ", 400)}
	for round := range 2 { // the second round reads from memory
		for _, s := range texts {
			if got, want := saidMentions(s), mentions(prepare(normalize(s))); !maps.Equal(got, want) {
				t.Errorf("round %d, %.20q: %v, read afresh %v", round, s, got, want)
			}
		}
	}
	for i := range memoMax + 10 {
		saidMentions(fmt.Sprintf("kafka broker %d is down", i))
	}
	memo.Lock()
	n := len(memo.said)
	memo.Unlock()
	if n > memoMax || n == 0 {
		t.Errorf("%d texts remembered (at most %d)", n, memoMax)
	}
}
