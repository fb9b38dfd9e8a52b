package classify

import "testing"

// BenchmarkClassify is the shipped model's verdict on one customer message
// (intake pays it for every customer message, before its transaction).
//
//	go test ./sla/classify -run '^$' -bench Classify
func BenchmarkClassify(b *testing.B) {
	m := Default()
	msgs := []string{
		"separate issue: the whole cluster is down, nothing runs (report 7)",
		"HDFS 写入一直失败，namenode 日志里全是 safe mode，麻烦尽快看一下",
		"thanks, that fixed it",
		"hive 查询从昨天晚上开始特别慢，偶尔超时",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Classify(msgs[i%len(msgs)])
	}
}
