package classify

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// A cue is a lexicon category found in a message, with the phrase that
// showed it. The lexicons are domain knowledge the model weighs like any
// other feature: they make a phrase the corpus never paired with a
// component ("kafka 积压") count as what it is.
type cue struct {
	name   string
	phrase string
}

// category is one lexicon. Chinese phrases match as substrings of the
// normalised text; English phrases match whole words ("crash*" matches
// every word that begins with "crash"). A negatable category seen right
// after a negation ("不是宕机", "not down") becomes "<name>_neg".
type category struct {
	name      string
	zh, en    []string
	negatable bool
}

// categories in order of precedence: a phrase inside one already matched
// by an earlier category does not count again ("没恢复" is unresolved, not
// resolved; "是不是" is a question, not a negation).
var categories = []category{
	{name: "unresolved", zh: []string{"没解决", "没有解决", "未解决", "还没好", "没好", "又出现", "又挂", "又宕", "又不行", "还是不行", "还不行", "仍然", "依然", "依旧",
		"没修复", "未修复", "没恢复", "未恢复", "没有恢复", "又来了", "又报", "又开始", "又出", "反复", "复现", "再次",
		"还是不", "还是没", "还是报", "还是有", "还是失败", "还是慢", "还是挂", "还是一样", "还是这样", "还是老样子", "还是连不上", "还是打不开"},
		en: []string{"not solved", "not resolved", "not fixed", "isn't fixed", "still", "again", "unresolved", "not back", "recur*", "keeps", "keep failing", "once more", "persist*"}},
	{name: "question", zh: []string{"是不是", "是否", "有没有", "能不能", "可不可以", "会不会", "行不行", "吗", "么", "呢", "请问", "为什么", "为啥", "咋", "怎么", "如何", "什么时候", "何时", "哪里", "多久", "哪个", "哪些", "什么"},
		en: []string{"how", "why", "when", "what", "where", "which", "who", "is there", "are there", "is it", "is the", "are the", "anyone", "anybody", "could you", "can you", "can we", "do you", "does", "should", "would"}},
	{name: "howto", zh: []string{"怎么配置", "如何配置", "怎么设置", "如何设置", "怎么操作", "如何操作", "怎么查看", "如何查看", "怎么用", "如何使用", "怎么做", "怎样", "教程", "文档", "手册", "步骤", "最佳实践", "有没有办法", "有什么办法", "建议", "参数", "配置项", "咨询", "请教"},
		en: []string{"how to", "how do i", "how do we", "how can i", "how can we", "how should", "documentation", "docs", "doc", "guide", "tutorial", "best practice*", "advice", "recommend*", "is it possible", "what's the best", "what is the best", "any way to", "tips"}},
	{name: "past", zh: []string{"上个月", "上周", "上次", "上回", "之前那次", "那次", "去年", "前段时间", "复盘", "回顾", "总结", "事后", "故障报告", "事故报告", "根因分析"},
		en: []string{"last month", "last week", "last time", "last year", "last quarter", "postmortem", "post-mortem", "post mortem", "retrospective", "rca", "root cause", "incident report", "the outage last", "previous outage", "earlier this year"}},
	{name: "hypo", zh: []string{"如果", "假如", "假设", "万一", "要是", "演练", "模拟", "容灾切换", "切换测试", "压测", "测试一下", "以防"},
		en: []string{"if", "what if", "suppose", "in case", "drill", "simulat*", "hypothetical*", "failover test", "dr test", "dr exercise", "load test", "stress test"}},
	{name: "planned", zh: []string{"计划", "维护窗口", "停机维护", "割接", "变更", "升级窗口", "预计", "安排", "通知", "打算", "准备"},
		en: []string{"planned", "planning", "plan to", "maintenance window", "scheduled downtime", "scheduled maintenance", "change window", "we will", "we'll", "going to", "upcoming"}},
	{name: "resolved", zh: []string{"已经解决", "已解决", "解决了", "恢复正常", "恢复了", "好了", "正常了", "没问题了", "可以用了", "能用了", "搞定", "修复了", "已修复", "不用处理", "无需处理", "可以关闭", "可以关了", "结单", "关单", "已恢复", "好啦"},
		en: []string{"solved", "resolved", "fixed", "works now", "working now", "working again", "works again", "back to normal", "back up", "all good", "fine now", "never mind", "nevermind", "can be closed", "close the ticket", "close this", "is back", "are back", "recovered", "sorted"}, negatable: true},
	// What was done about it, told after the fact: a fix the customer or
	// someone made ("清理完空间", "restarted", "rolled back").
	{name: "fix_action", zh: []string{"重启后", "重启之后", "重启完", "清理完", "清完", "清了", "扩完", "扩容后", "扩了", "调了", "调整后", "调整了", "改了", "改完", "换了", "换好", "修好", "补了", "补跑", "重跑", "重建", "重置", "删掉了", "删了", "加了", "升级后", "升级完", "回滚", "处理完", "拉起来", "重新同步", "重新挂", "让他停了", "停掉了", "杀掉", "kill掉", "撤销", "放开了", "恢复了配置"},
		en: []string{"restarted", "cleared", "cleaned", "replaced", "increased", "raised", "re-ran", "reran", "rerun", "regenerated", "removed", "scaled", "killed it", "killed the", "reset", "rebuilt", "patched", "rolled back", "reverted", "re-created", "recreated", "bounced", "freed", "deleted the", "swapped", "reloaded", "unblocked", "whitelisted"}},
	// Something was done, said as done: "已清理", "已拉起", "调大了".
	{name: "done_action", zh: []string{"已处理", "已清理", "已改", "已加", "已增加", "已调", "已迁移", "已停", "已拉起", "已重启", "已补", "已手动", "已配置", "已更新",
		"已回收", "已删", "已扩", "已放开", "已解锁", "已重跑", "已重算", "已重建", "已替换", "已更换", "已切换", "已经处理", "已下线", "已同步", "已优化", "已限制",
		"已隔离", "已回滚", "已修改", "已调整", "已核实", "已查明", "已定位", "已经改", "已经加", "已经清", "已经调", "已发", "已通知", "已安排",
		"清了", "改了", "加了", "调大了", "调小了", "拉起了", "配上了", "补上了", "挂好了", "迁了", "删了", "换好了", "解锁了", "调完", "弄好了", "搞好了", "修好了"},
		en: []string{"done", "completed", "applied", "fixed it", "we have", "has been", "have been", "were", "now set", "pushed", "added", "changed", "tuned", "moved", "migrated", "disabled", "enabled", "updated", "upgraded", "configured", "adjusted", "rebalanced", "unlocked", "resent", "re-sent", "replayed"}},
	// The good state now: "在动了", "up now", "stable".
	{name: "good_state", zh: []string{"起来了", "在动了", "追平", "没再出现", "没有再出现", "成功了", "导出成功", "通了", "回来了", "正常了", "都好了", "稳定了", "很稳定", "快多了", "恢复", "在线", "绿了", "变绿", "没有丢",
		"陆续起", "陆续启动", "能连", "能打开", "打开了", "都起了", "可以写了", "可以查了", "在补", "在追", "对上了", "开始跑", "跑完了", "都在跑", "在恢复", "出来了", "能用了", "能登录了", "可以登录了"},
		en: []string{"up now", "back up", "back now", "is back", "are back", "came back", "back after", "healthy", "stable", "normal", "correct now", "looks good", "look good", "looks right", "look right", "looks sane", "look sane", "went through", "resumed", "flowing", "running again", "green", "all green", "no recurrence", "caught up", "breathing again", "recovering", "recovered", "fine now", "ok now",
			"work again", "running again", "active again", "loading again", "complete again", "up again", "online again", "available again", "green again", "being submitted again", "restore running", "starting one by one", "is up", "are up"}},
	// The cause was found: "原来是…", "traced it".
	{name: "cause_found", zh: []string{"原来是", "定位到了", "定位到", "原因是", "是因为", "确认了，是", "查到了", "找到原因", "找到了", "问题出在", "罪魁祸首", "根因", "原因：", "原因:", "导致的", "引起的", "造成的"},
		en: []string{"traced it", "turned out", "turns out", "root cause was", "found it", "the cause was", "it was our", "was caused by", "culprit", "we found", "figured out", "rca", "cause:", "because of", "was due to"}},
	// The services without which the customer cannot work at all.
	{name: "core_service", zh: []string{"集群", "平台", "数据库", "元数据库", "管理界面", "管理节点", "主节点", "认证服务"},
		en: []string{"hdfs", "namenode", "nn", "inceptor", "hive", "hs2", "hiveserver*", "metastore", "yarn", "resourcemanager", "rm", "kafka", "manager", "ldap", "kerberos", "kdc", "zookeeper", "zk", "cluster", "platform", "jobmanager"}},
	{name: "normal", zh: []string{"一切正常", "运行正常", "都正常", "没问题", "没有问题", "正常运行", "挺稳定", "很稳定", "跑得很好", "没有异常", "无异常", "没有报错", "没报错", "无报错"},
		en: []string{"no issue*", "no problem*", "no error*", "running fine", "works fine", "working fine", "everything is fine", "all fine", "healthy", "stable", "no complaints", "looks good"}},
	{name: "no_impact", zh: []string{"无感", "不影响", "没影响", "没有影响", "未影响", "无影响", "影响不大", "不受影响", "没受影响", "还能用", "能用", "可以用", "还能跑", "正常跑", "其他正常", "其它正常", "生产正常", "生产没问题"},
		en: []string{"no impact", "not affected", "unaffected", "not impacted", "no business impact", "prod is fine", "production is fine", "still works", "still working", "still running", "still usable", "works otherwise", "otherwise fine", "is fine", "are fine", "is ok", "are ok", "no user impact", "low priority", "not urgent", "no rush"}},
	{name: "wish", zh: []string{"希望", "建议", "需求", "能否增加", "想加", "想要", "能不能加", "能不能支持", "是否支持", "支持吗", "新功能", "优化一下", "改进", "评估一下"},
		en: []string{"feature request", "would like", "we'd like", "it would be nice", "would be great", "suggest*", "wish", "enhancement", "nice to have", "does it support", "is there support", "can it support", "request for", "roadmap"}},
	{name: "normal_q", zh: []string{"算正常", "正常吗", "正常吧", "正常不", "是否正常", "需要管吗", "需要处理吗", "要紧吗", "有影响吗", "需要扩容吗", "有风险吗", "合理吗", "健康吗"},
		en: []string{"is that normal", "is this normal", "is it normal", "is that ok", "is this ok", "is that healthy", "is it healthy", "should we worry", "should i worry", "do we need to worry", "is it safe", "is that expected", "is this expected", "healthy level"}},
	{name: "impact", zh: []string{"业务停", "业务中断", "业务受影响", "影响业务", "影响生产", "业务全停", "业务瘫痪", "客户投诉", "投诉", "办不了", "无法办理", "停摆", "停工", "交易失败", "营业", "用户都", "大家都", "领导", "损失", "上不了班", "干不了活", "开不了工"},
		en: []string{"business", "customers complain*", "users complain*", "nobody can", "no one can", "noone can", "everyone is blocked", "all users", "can't work", "cannot work", "revenue", "losing money", "blocked", "impact*", "escalat*", "management", "ceo", "cfo", "sla breach"}},
	{name: "outage", zh: []string{"宕机", "宕了", "当机", "挂了", "挂掉", "挂啦", "挂着", "全挂", "崩了", "崩溃", "崩掉", "瘫痪", "不可用", "用不了", "无法使用", "不能用", "没法用", "访问不了", "无法访问", "不能访问", "打不开", "连不上", "无法连接", "连接不上", "连接失败", "起不来", "启动不了", "无法启动", "启动失败", "停止服务", "停服", "中断", "没响应", "无响应", "不响应", "掉线", "离线", "下线了", "死了", "卡死", "登不上", "登录不了", "无法登录", "登陆不了", "无法登陆", "进不去", "停了", "出不来", "跑不动", "跑不了", "不通", "异常退出", "拒绝连接", "全红", "黑屏", "白屏", "一片空白", "全失败", "全部失败", "都失败"},
		en: []string{"down", "outage", "unavailable", "unavailible", "crash*", "unreachable", "unusable", "inaccessible", "offline", "dead", "not respond*", "unresponsive", "cannot connect", "can't connect", "cant connect", "unable to connect", "connection refused", "refused", "won't start", "wont start", "will not start", "fail to start", "fails to start", "failed to start", "not starting", "doesn't start", "stopped working", "not working", "isn't working", "doesn't work", "does not work", "hang*", "hung", "frozen", "freez*", "#5xx", "went down", "goes down", "blackout", "kaput", "dies", "died", "gone", "can't log in", "cannot log in", "can't login", "cannot login", "unable to log", "nothing works", "nothing is working", "no data", "blank", "all fail*", "gg"}, negatable: true},
	{name: "fault", zh: []string{"报错", "错误", "异常", "失败", "超时", "告警", "报警", "不正常", "不对", "有问题", "出问题", "出了问题", "丢了", "丢失", "延迟", "延时", "不准", "无法", "不能", "不了", "没法", "缺失", "不一致", "满了", "不足", "积压", "堆积", "溢出", "重复", "为空", "空的", "查不到", "查不出", "不出来", "不显示", "乱码", "失效", "过期", "拒绝", "泄漏", "泄露", "抖动", "飙升", "报红", "红了", "损坏", "不见了", "少了", "对不上", "漏了", "丢数", "挂起", "阻塞", "堵", "重启", "退出", "被杀", "卡住", "卡在", "不动了", "失联", "闪退", "崩", "报了", "没有数据", "没数据", "无数据"},
		en: []string{"error*", "fail*", "slow*", "timeout*", "time out", "timed out", "timing out", "broken", "bug*", "issue*", "problem*", "wrong", "missing", "exception*", "stuck", "lag*", "latency", "alert*", "alarm*", "cannot", "can't", "cant", "unable", "incorrect", "inconsistent", "full", "leak*", "oom", "killed", "degrad*", "flaky", "#4xx", "corrupt*", "lost", "duplicat*", "empty", "null", "spik*", "throttl*", "oom*", "bug*", "kill*", "reject*", "denied", "expired", "invalid", "mismatch*", "abort*", "restart*", "glitch*", "weird", "strange", "odd", "off"}, negatable: true},
	{name: "slow", zh: []string{"慢", "卡", "很久", "半天", "转圈", "等了", "好久", "老半天"},
		en: []string{"slow*", "sluggish", "takes forever", "taking forever", "forever", "ages", "minutes to", "hours to", "laggy"}, negatable: true},
	{name: "broad", zh: []string{"全部", "所有", "整个", "全体", "全都", "都", "大面积", "全站", "全线", "一片", "全是", "每个", "任何", "全", "统统", "一律", "两台都", "两个都", "双双", "不是我们一家", "别的组"},
		en: []string{"all", "entire", "whole", "every", "everything", "everyone", "everybody", "nobody", "no one", "nothing", "complete*", "total*", "any", "across", "both"}},
	{name: "narrow", zh: []string{"一个", "某个", "个别", "部分", "一张", "一台", "偶尔", "有时", "有点", "一些", "少量", "单个", "某些", "一条", "其中", "一部分", "有几个", "几个", "一两", "某张", "某台", "某条", "一位", "个人"},
		en: []string{"one", "a single", "single", "some", "a few", "few", "occasional*", "sometime*", "intermittent*", "a bit", "slightly", "minor", "particular", "certain", "partial*", "partly", "one of", "a couple", "only"}},
	{name: "prod", zh: []string{"生产", "核心", "线上", "正式环境", "主节点", "业务", "实时", "大屏", "全行", "全省", "全市", "全公司"},
		en: []string{"production", "prod", "core", "live", "critical", "customer-facing", "main", "primary"}},
	{name: "test_env", zh: []string{"测试环境", "开发环境", "测试集群", "测试库", "开发库"},
		en: []string{"test env*", "dev env*", "staging", "uat", "sandbox", "test cluster", "dev cluster"}},
	{name: "urgent", zh: []string{"紧急", "严重", "马上", "尽快", "赶紧", "急", "立即", "立刻", "救命", "火速", "十万火急", "快点", "速度"},
		en: []string{"urgent*", "asap", "emergency", "p1", "sev1", "sev 1", "immediately", "help", "critical", "right now", "now"}},
	{name: "request", zh: []string{"报告", "巡检", "统计", "发票", "合同", "授权", "许可", "培训", "申请", "开通", "新建", "扩容", "预约", "会议", "开会", "拜访", "来现场", "驻场", "上门", "发一下", "发一份", "发我", "提供一下", "帮忙看看能不能", "麻烦安排", "报价", "续保", "续费", "新版本", "版本", "升级", "发布", "补丁"},
		en: []string{"report", "reports", "invoice*", "contract*", "licen*", "training", "quote", "renew*", "schedule*", "meeting*", "visit*", "on-site", "onsite", "send me", "send us", "share the", "new version", "release*", "upgrad*", "patch*", "changelog", "feature", "roadmap", "demo", "call"}},
	{name: "thanks", zh: []string{"谢谢", "感谢", "多谢", "辛苦", "谢啦", "谢了", "点赞", "给力", "赞"},
		en: []string{"thanks", "thank you", "thx", "ty", "appreciate*", "cheers", "great job", "well done", "kudos"}},
	{name: "greet", zh: []string{"你好", "您好", "早上好", "下午好", "晚上好", "大家好", "在吗", "在不在", "早安", "哈喽", "早", "收到", "好的", "嗯", "明白"},
		en: []string{"hi", "hello", "hey", "good morning", "good afternoon", "good evening", "morning", "ok", "okay", "got it", "noted", "sure", "roger"}},
	{name: "log", zh: []string{"exception", "caused by", "at org.", "at com.", "java.", "errno", "sqlstate", "ora-", "exit code", "[error]", "error:", "fatal", "traceback", "stack trace", "堆栈", "日志"},
		en: []string{"log*", "stacktrace", "stack", "trace"}},
	{name: "now", zh: []string{"现在", "目前", "刚刚", "刚才", "今天", "一直", "从早上", "从昨天", "开始", "突然", "持续"},
		en: []string{"now", "currently", "right now", "since", "today", "this morning", "suddenly", "just now", "started", "keeps", "at the moment"}},
}

// zhNegators end the text right before a Chinese phrase that they negate.
var zhNegators = []string{"不是", "并不是", "并非", "没有", "没", "并没有", "并没", "不算", "算不上", "谈不上", "未曾", "从没", "从来没", "无"}

// enNegators are the English words that negate a phrase one to three
// words later.
var enNegators = map[string]bool{"not": true, "no": true, "never": true, "isn't": true, "wasn't": true, "aren't": true,
	"weren't": true, "hasn't": true, "haven't": true, "without": true, "isnt": true, "wasnt": true, "arent": true, "nor": true,
	"nothing": true, "none": true, "neither": true}

// enPhrase is an English phrase split into words once: the last word is a
// prefix when the phrase ends in "*".
type enPhrase struct {
	raw    string
	words  []string
	prefix bool
}

func compileEN(ps []string) []enPhrase {
	out := make([]enPhrase, len(ps))
	for i, p := range ps {
		ws := strings.Fields(p)
		prefix := strings.HasSuffix(p, "*")
		if prefix {
			ws[len(ws)-1] = strings.TrimSuffix(ws[len(ws)-1], "*")
		}
		out[i] = enPhrase{raw: p, words: ws, prefix: prefix}
	}
	return out
}

// enIndex finds the English phrases that may start at a word: by their
// first word, and those whose first word is a prefix ("crash*") by the
// prefix's first byte (a word can only start with it if it starts with
// that byte).
type enIndex struct {
	byFirst  map[string][]enPhrase
	prefixed map[byte][]enPhrase
}

func indexEN(ps []enPhrase) enIndex {
	x := enIndex{byFirst: map[string][]enPhrase{}, prefixed: map[byte][]enPhrase{}}
	for _, p := range ps {
		if p.prefix && len(p.words) == 1 {
			if p.words[0] == "" {
				panic("classify: the lexicon has an empty prefix phrase")
			}
			b := p.words[0][0]
			x.prefixed[b] = append(x.prefixed[b], p)
			continue
		}
		x.byFirst[p.words[0]] = append(x.byFirst[p.words[0]], p)
	}
	return x
}

// candidates calls fn with every phrase that may start at word i, in the
// lexicon's order within each kind.
func (x enIndex) candidates(t text, i int, fn func(enPhrase)) {
	w := t.words[i]
	for _, p := range x.byFirst[w] {
		fn(p)
	}
	if s := t.stems[i]; s != w {
		for _, p := range x.byFirst[s] {
			fn(p)
		}
	}
	if w != "" {
		for _, p := range x.prefixed[w[0]] {
			fn(p)
		}
	}
}

// zhPhrase is a Chinese phrase and its first rune: a text without that
// rune cannot hold the phrase, and is not searched for it.
type zhPhrase struct {
	text  string
	first rune
}

// compiled are the categories' English phrases, indexed, and their Chinese
// ones, in order.
var compiled, compiledZH = func() ([]enIndex, [][]zhPhrase) {
	en := make([]enIndex, len(categories))
	zh := make([][]zhPhrase, len(categories))
	for i, c := range categories {
		en[i] = indexEN(compileEN(c.en))
		for _, p := range c.zh {
			r, _ := utf8.DecodeRuneInString(p)
			zh[i] = append(zh[i], zhPhrase{text: p, first: r})
		}
	}
	return en, zh
}()

// runeSet is the runes of a text, for asking whether one occurs in it.
type runeSet struct {
	ascii [128]bool
	other []rune // sorted
}

func runesOf(s string) runeSet {
	var rs runeSet
	for _, r := range s {
		if r < 128 {
			rs.ascii[r] = true
		} else {
			rs.other = append(rs.other, r)
		}
	}
	slices.Sort(rs.other)
	rs.other = slices.Compact(rs.other)
	return rs
}

func (rs *runeSet) has(r rune) bool {
	if r >= 0 && r < 128 {
		return rs.ascii[r]
	}
	_, ok := slices.BinarySearch(rs.other, r)
	return ok
}

// text is a message prepared for phrase matching: its English words (a
// clause break or Chinese run as "|") and their stems.
type text struct {
	norm  string
	words []string
	stems []string
}

func prepare(norm string) text {
	t := text{norm: norm}
	for _, tok := range tokenize(norm) {
		if tok.han {
			t.words = append(t.words, "|")
			t.stems = append(t.stems, "|")
			continue
		}
		t.words = append(t.words, tok.text)
		t.stems = append(t.stems, stem(tok.text))
	}
	return t
}

// at reports whether phrase p matches the words at position i.
func (t text) at(p enPhrase, i int) bool {
	if i+len(p.words) > len(t.words) {
		return false
	}
	for k, pw := range p.words {
		w := t.words[i+k]
		if w == "|" {
			return false
		}
		if k == len(p.words)-1 && p.prefix {
			if !strings.HasPrefix(w, pw) {
				return false
			}
			continue
		}
		if w != pw && t.stems[i+k] != pw {
			return false
		}
	}
	return true
}

// lexiconCues finds the categories of a normalised message.
func lexiconCues(norm string) []cue {
	// Chinese: substrings over the text; English: whole words over the
	// words of the text, with clause breaks as "|".
	t := prepare(norm)
	words := t.words
	zhCovered := make([]bool, len(norm)+1)
	enCovered := make([]bool, len(words)+1)
	var out []cue
	found := map[string]bool{}
	present := runesOf(norm)
	for ci, c := range categories {
		var neg, pos string
		for _, zp := range compiledZH[ci] {
			if !present.has(zp.first) {
				continue // (strings.Index would not find it)
			}
			p := zp.text
			for from := 0; ; {
				i := strings.Index(norm[from:], p)
				if i < 0 {
					break
				}
				i += from
				from = i + len(p)
				if zhCovered[i] && zhCovered[i+len(p)-1] {
					continue
				}
				for k := i; k < i+len(p); k++ {
					zhCovered[k] = true
				}
				if c.negatable && zhNegated(norm[:i]) {
					if neg == "" {
						neg = p
					}
				} else if pos == "" {
					pos = p
				}
			}
		}
		for i := range words {
			if words[i] == "|" {
				continue
			}
			compiled[ci].candidates(t, i, func(ep enPhrase) {
				n := len(ep.words)
				if !t.at(ep, i) || (enCovered[i] && enCovered[i+n-1]) {
					return
				}
				if ep.raw == "again" && goodBefore(words[:i]) {
					return // "logins work again" is a recovery, not a recurrence
				}
				for k := i; k < i+n; k++ {
					enCovered[k] = true
				}
				phrase := strings.Join(words[i:i+n], " ")
				if c.negatable && enNegated(words[:i]) {
					if neg == "" {
						neg = phrase
					}
				} else if pos == "" {
					pos = phrase
				}
			})
		}
		if pos != "" && !found[c.name] {
			found[c.name] = true
			out = append(out, cue{name: c.name, phrase: pos})
		}
		if neg != "" && !found[c.name+"_neg"] {
			found[c.name+"_neg"] = true
			out = append(out, cue{name: c.name + "_neg", phrase: neg})
		}
	}
	return out
}

// goodWords say something works; "again" after one of them is a recovery.
var goodWords = map[string]bool{"work": true, "works": true, "working": true, "running": true, "run": true, "active": true, "back": true,
	"up": true, "online": true, "fine": true, "normal": true, "loading": true, "loads": true, "submitted": true, "complete": true,
	"available": true, "readable": true, "green": true, "ok": true, "flowing": true, "healthy": true, "stable": true, "responding": true,
	"accessible": true, "reachable": true, "writable": true, "serving": true, "moving": true, "syncing": true}

func goodBefore(before []string) bool {
	for k := len(before) - 1; k >= 0 && k >= len(before)-3; k-- {
		if before[k] == "|" {
			return false
		}
		if goodWords[before[k]] {
			return true
		}
	}
	return false
}

func zhNegated(before string) bool {
	b := strings.TrimRight(before, " ")
	for _, n := range zhNegators {
		if strings.HasSuffix(b, n) {
			// "是不是宕机" asks; it does not deny.
			return !strings.HasSuffix(b, "是不是") && !strings.HasSuffix(b, "是没有")
		}
	}
	return false
}

func enNegated(before []string) bool {
	for k := len(before) - 1; k >= 0 && k >= len(before)-3; k-- {
		w := before[k]
		if w == "|" {
			return false
		}
		if enNegators[w] || strings.HasSuffix(w, "n't") {
			return true
		}
	}
	return false
}

// combine adds conjunctions of cues that a linear model cannot form
// itself: breadth with an outage is worse than either alone; a question
// with no fault word is likely a question; the past or the hypothetical
// with an outage word is likely talk about an outage, not one.
func combine(cues []cue, norm string) []cue {
	has := map[string]string{}
	for _, c := range cues {
		has[c.name] = c.phrase
	}
	var out []cue
	both := func(name, a, b string) {
		pa, oka := has[a]
		pb, okb := has[b]
		if oka && okb {
			out = append(out, cue{name: name, phrase: pa + " + " + pb})
		}
	}
	_, outage := has["outage"]
	_, fault := has["fault"]
	_, slow := has["slow"]
	_, impact := has["impact"]
	anyFault := outage || fault || slow || impact
	both("outage+broad", "outage", "broad")
	both("outage+narrow", "outage", "narrow")
	both("outage+prod", "outage", "prod")
	both("outage+urgent", "outage", "urgent")
	both("fault+broad", "fault", "broad")
	both("fault+narrow", "fault", "narrow")
	both("fault+urgent", "fault", "urgent")
	both("fault+prod", "fault", "prod")
	both("impact+broad", "impact", "broad")
	both("outage+past", "outage", "past")
	both("outage+hypo", "outage", "hypo")
	both("fix_action+good_state", "fix_action", "good_state")
	both("cause_found+fix_action", "cause_found", "fix_action")
	both("done_action+good_state", "done_action", "good_state")
	both("cause_found+done_action", "cause_found", "done_action")
	both("done_action+unresolved", "done_action", "unresolved")
	both("cause_found+good_state", "cause_found", "good_state")
	both("outage+core_service", "outage", "core_service")
	both("good_state+core_service", "good_state", "core_service")
	both("good_state+unresolved", "good_state", "unresolved")
	both("fix_action+unresolved", "fix_action", "unresolved")
	both("fault+past", "fault", "past")
	both("fault+hypo", "fault", "hypo")
	both("outage+question", "outage", "question")
	both("fault+question", "fault", "question")
	both("resolved+unresolved", "resolved", "unresolved")
	both("outage+test_env", "outage", "test_env")
	both("outage_neg+slow", "outage_neg", "slow")
	both("outage_neg+fault", "outage_neg", "fault")
	both("howto+fault", "howto", "fault")
	both("request+fault", "request", "fault")
	both("request+outage", "request", "outage")
	both("wish+fault", "wish", "fault")
	both("no_impact+outage", "no_impact", "outage")
	both("no_impact+fault", "no_impact", "fault")
	both("normal_q+fault", "normal_q", "fault")
	both("planned+outage", "planned", "outage")
	if !anyFault {
		if p, ok := has["question"]; ok {
			out = append(out, cue{name: "question_only", phrase: p})
		}
		if _, ok := has["unresolved"]; !ok {
			out = append(out, cue{name: "no_fault_word", phrase: ""})
		}
	}
	if p, ok := has["resolved"]; ok {
		if _, ok := has["unresolved"]; !ok {
			out = append(out, cue{name: "resolved_only", phrase: p})
		}
	}
	return out
}
