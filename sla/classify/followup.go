package classify

import (
	"strings"
	"sync"
	"unicode"

	"github.com/slakeeper/slakeeper/sla"
)

// components are the parts of the platform customers name, with the words
// they name them by. Two messages about the same component are likely about
// the same problem; a message about a component that none of the open
// problems is about is likely a new one.
var components = []struct {
	name   string
	zh, en []string
}{
	{"hdfs", []string{"副本", "数据块", "安全模式"}, []string{"hdfs", "namenode", "datanode", "journalnode", "nn", "dn", "safemode", "safe mode", "block*"}},
	{"yarn", []string{"队列", "资源池"}, []string{"yarn", "resourcemanager", "nodemanager", "rm", "nm", "queue*", "container*", "application_*"}},
	{"sql", []string{"查询", "数据库", "表"}, []string{"hive", "inceptor", "hs2", "hiveserver*", "metastore", "beeline", "sql", "query", "queries", "impala", "presto", "jdbc", "odbc", "table*"}},
	{"hbase", []string{"列族"}, []string{"hbase", "hyperbase", "regionserver*", "region*", "rowkey", "hmaster", "rs"}},
	{"kafka", []string{"消费", "积压", "消息", "生产者"}, []string{"kafka", "topic*", "consumer*", "producer*", "lag", "broker*", "partition*", "offset*"}},
	{"spark", []string{}, []string{"spark", "executor*", "driver", "rdd", "stage"}},
	{"flink", []string{"反压"}, []string{"flink", "checkpoint*", "savepoint*", "taskmanager", "jobmanager", "backpressure", "watermark*"}},
	{"zookeeper", []string{}, []string{"zookeeper", "zk", "quorum"}},
	{"search", []string{"索引", "分片", "检索", "全文"}, []string{"elasticsearch", "es", "search", "index", "indices", "shard*", "kibana"}},
	{"manager", []string{"管理界面", "控制台", "管理页面", "管理平台"}, []string{"manager", "console", "web ui", "webui", "ui"}},
	{"security", []string{"认证", "权限", "登录", "登陆", "密码", "账号", "账户"}, []string{"kerberos", "kinit", "keytab", "ldap", "guardian", "principal", "kdc", "login", "log in", "password", "permission*", "auth*", "account*", "ticket"}},
	{"dashboard", []string{"大屏", "驾驶舱", "报表", "看板", "图表", "指标"}, []string{"dashboard*", "report*", "bi", "chart*", "tableau", "superset", "kpi*"}},
	{"etl", []string{"导出", "导入", "同步", "抽取", "跑批", "调度", "批量", "入库"}, []string{"export*", "import*", "etl", "sqoop", "datax", "sync*", "batch", "schedul*", "airflow", "ingest*", "load*"}},
	{"backup", []string{"备份", "快照", "容灾"}, []string{"backup*", "snapshot*", "dr", "disaster"}},
	{"network", []string{"网络", "交换机", "网卡", "丢包", "带宽"}, []string{"network", "dns", "switch", "packet*", "bandwidth", "firewall", "vpn"}},
	{"hardware", []string{"磁盘", "硬盘", "内存", "服务器", "机器", "主机", "机房", "电源"}, []string{"disk*", "memory", "cpu", "server*", "machine*", "host*", "hardware", "power"}},
}

// Markers of how a message relates to what came before.
var (
	// A new, different problem: "另外", "separate issue".
	newMarkers = compile([]string{"另外", "另一个", "还有一个", "还有个", "新问题", "新的问题", "另有", "此外", "顺便", "再报一个", "再提一个", "另一件", "别的问题", "不相关", "无关", "另一事", "另外一个",
		"又发现", "又有个", "又有一个", "又来了个", "又出了个", "不一样", "没关系", "没有关系", "不是一回事", "两回事", "第二个问题", "第三个"},
		[]string{"also another", "another", "separate*", "new issue", "new problem", "different issue", "different problem", "different thing", "unrelated", "one more", "second issue", "btw", "by the way", "additionally", "also seeing", "on another note", "other issue", "other problem",
			"something else", "something new", "not related", "nothing to do with", "not about", "a third", "third one", "bigger problem", "different one", "new one",
			"different topic", "next problem", "next issue", "another thing", "one more thing", "while i'm here", "while we're at it", "on a different note"})
	// Openings that add a problem to the list: "对了，…", "and the…", "再来一个：".
	addingOpeners = []string{"对了", "哦还有", "哦对了", "还有", "再补一个", "再来一个", "又来一个", "再报一个", "再说一个", "另外", "and ", "also", "oh and", "plus ", "next:", "p.s", "ps "}
	// Something is the cause or the effect of the open problem.
	causalMarkers = compile([]string{"引起", "导致", "因为", "造成", "所以", "影响到", "连带", "相关", "跟这个有关", "估计是", "应该是", "原因"},
		[]string{"caused", "because", "due to", "related", "as a result", "so now", "knock-on", "downstream", "probably from", "root cause", "same outage", "same issue", "same problem", "same error"})
	// More of the same: "还是不行", "still", "any update".
	contMarkers = compile([]string{"还是", "依然", "仍然", "仍旧", "还没", "又", "更严重", "更慢", "现在连", "进展", "怎么样了", "补充", "截图", "图片", "日志", "刚才那个", "这个问题", "上面", "同样", "一样", "继续", "好了没", "什么时候能好", "多久能好",
		"看了一下", "看了下", "查了一下", "查了下", "发现是", "是因为", "排查"},
		[]string{"still", "again", "any update*", "update?", "progress", "worse", "now even", "same", "screenshot*", "log*", "this issue", "this problem", "the issue", "the problem", "it is", "it's", "eta", "follow up", "following up", "more detail*", "fyi",
			"checked", "looked", "found that", "turns out", "it seems", "we found", "looks like"})
	// A turn to something else: "…好了，但是…".
	contrastMarkers = compile([]string{"但是", "但", "不过", "可是", "然而"}, []string{"but", "however", "though", "yet"})
)

// phrases is a list of Chinese phrases and compiled English ones.
type phrases struct {
	zh []string
	en []enPhrase
}

func compile(zh, en []string) phrases { return phrases{zh: zh, en: compileEN(en)} }

var componentPhrases = func() []phrases {
	out := make([]phrases, len(components))
	for i, c := range components {
		out[i] = compile(c.zh, c.en)
	}
	return out
}()

// mentions returns which components a prepared text names.
func mentions(t text) map[string]bool {
	out := map[string]bool{}
	for i, c := range components {
		if t.has(componentPhrases[i]) {
			out[c.name] = true
		}
	}
	return out
}

// Earlier messages come back with every message of their customer while
// their problems are open: what components each names is remembered
// (whole texts up to memoMaxText bytes, up to memoMax of them; the memory
// is forgotten at once when full).
const (
	memoMax     = 4096
	memoMaxText = 2048
)

var memo struct {
	sync.Mutex
	said map[string]map[string]bool
}

// saidMentions is mentions of an earlier message (read only: shared).
func saidMentions(s string) map[string]bool {
	if len(s) > memoMaxText {
		return mentions(prepare(normalize(s)))
	}
	memo.Lock()
	m, ok := memo.said[s]
	memo.Unlock()
	if ok {
		return m
	}
	m = mentions(prepare(normalize(s)))
	memo.Lock()
	if memo.said == nil || len(memo.said) >= memoMax {
		memo.said = make(map[string]map[string]bool, memoMax)
	}
	memo.said[s] = m
	memo.Unlock()
	return m
}

// has reports whether any of the phrases is in the text.
func (t text) has(ps phrases) bool {
	for _, p := range ps.zh {
		if strings.Contains(t.norm, p) {
			return true
		}
	}
	for _, p := range ps.en {
		for i := 0; i+len(p.words) <= len(t.words); i++ {
			if t.at(p, i) {
				return true
			}
		}
	}
	return false
}

// FollowUp decides whether a customer's message, classified as r, continues
// one of their conversations in progress (the most recent first): it
// returns the index of the conversation it joins, or -1 when it is a new
// problem that deserves an incident of its own.
//
// The rule, measured on the conversations in testdata (docs/classifier.md):
// talk that is not a fault joins the latest conversation; a message that
// says it is a different problem ("另外…", "separate issue") is new, unless
// it ties itself to the open one ("…应该是 HDFS 引起的"); a message that says
// the open problem is solved and reports another is new; a message about
// the component an open problem is about joins it; a message naming no
// component ("还是不行", "now everything is down") joins the latest; a
// message naming only components no open problem is about is new.
func FollowUp(msg string, r Result, convs []sla.Conversation) int {
	if len(convs) == 0 {
		return -1
	}
	norm := normalize(msg)
	t := prepare(norm)
	has := t.has
	mc := mentions(t)
	same := -1
	vague := false // the latest problem names no component: "集群全部宕机了"
	for i, c := range convs {
		said := map[string]bool{}
		for _, s := range c.Said {
			for k := range saidMentions(s) {
				said[k] = true
			}
		}
		if i == 0 {
			vague = len(said) == 0
		}
		for k := range mc {
			if said[k] {
				same = i
				break
			}
		}
		if same >= 0 {
			break
		}
	}
	latest := func() int {
		if same >= 0 {
			return same
		}
		return 0
	}
	if r.Verdict == VerdictNotFault {
		return latest()
	}
	cues := map[string]bool{}
	for _, c := range r.cuesOf(msg, norm) {
		cues[c.name] = true
	}
	opening := strings.TrimLeft(norm, " ,;:!?-—…")
	adding := false
	for _, o := range addingOpeners {
		if strings.HasPrefix(opening, o) {
			adding = true
		}
	}
	switch {
	case has(newMarkers) || adding:
		return -1
	case cues["log"] && !cues["outage"] && len(mc) <= 1 && hanShare(norm) < 0.2:
		return latest() // a pasted log line: detail of what is open
	case has(causalMarkers):
		return latest()
	case cues["resolved"] && !cues["unresolved"] && has(contrastMarkers):
		return -1 // "HDFS 好了，但是 hive 又报错": the open problem is over, this one is new
	case same >= 0:
		return same
	case len(mc) == 0, has(contMarkers), cues["resolved"], vague:
		return latest()
	case !cues["outage"] && !cues["fault"] && !cues["slow"]:
		return latest() // urgency or impact, no new symptom
	}
	return -1
}

// hanShare is the share of Chinese characters among a text's letters.
func hanShare(norm string) float64 {
	var han, letters int
	for _, r := range norm {
		switch {
		case isHan(r):
			han++
			letters++
		case unicode.IsLetter(r):
			letters++
		}
	}
	if letters == 0 {
		return 0
	}
	return float64(han) / float64(letters)
}
