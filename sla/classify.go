package sla

import (
	"strings"
	"unicode"
)

// Verdict is the classifier's decision about a customer message.
type Verdict string

// Verdicts.
const (
	VerdictCore     Verdict = "core"     // a core function is unavailable
	VerdictNoncore  Verdict = "noncore"  // a fault that leaves core functions working
	VerdictNotFault Verdict = "notfault" // chatter: thanks, greetings, scheduling, questions, "solved"
)

// Severity maps a fault verdict to a severity; ok is false for not-a-fault.
func (v Verdict) Severity() (Severity, bool) {
	switch v {
	case VerdictCore:
		return SeverityCore, true
	case VerdictNoncore:
		return SeverityNoncore, true
	}
	return "", false
}

// Classification is the classifier's verdict with the reason it decided.
type Classification struct {
	Verdict Verdict
	Rule    string   // which rule decided, e.g. "core-failure", "resolved", "thanks"
	Matched []string // the phrases that triggered the rule
}

// Reason is a one-line explanation for the timeline and the incident card.
func (c Classification) Reason() string {
	if len(c.Matched) == 0 {
		return c.Rule
	}
	return c.Rule + ": " + strings.Join(c.Matched, " + ")
}

// Phrase lists. Chinese phrases match as substrings; English ones match whole
// words on a normalised text (lower case, punctuation as spaces).
var (
	// Outage words: something is down or unusable.
	severeZH = []string{"宕机", "瘫痪", "挂了", "挂掉", "崩了", "崩溃", "不可用", "用不了", "无法使用", "不能用", "无法访问", "访问不了",
		"无法登录", "登录不了", "登不上", "连不上", "无法连接", "中断", "停止服务", "停服", "起不来", "跑不起来", "启动不了", "无法启动",
		"数据丢失", "丢数据", "丢失数据", "全挂", "没响应", "无响应", "打不开"}
	severeEN = []string{"down", "outage", "unavailable", "crashed", "crashes", "crashing", "crash", "unusable", "unreachable",
		"not responding", "cannot connect", "can't connect", "cant connect", "cannot log in", "can't log in", "cannot login",
		"data loss", "lost data", "won't start", "will not start", "fails to start", "failed to start", "not starting",
		"stopped working", "not working", "inaccessible", "offline", "dead", "hung", "hangs", "503", "502"}
	// Milder fault words: errors, slowness, partial failure.
	faultZH = []string{"故障", "报错", "错误", "异常", "失败", "慢", "超时", "告警", "报警", "不正常", "不对", "有问题",
		"出问题", "bug", "丢了", "延迟", "延时", "不准", "无法", "不能", "不了", "没法", "缺失", "不一致", "满了", "不足", "卡住", "卡顿", "卡死", "很卡", "问题还在"}
	faultEN = []string{"error", "errors", "fail", "fails", "failed", "failing", "failure", "slow", "slowly", "timeout", "timeouts",
		"timed out", "time out", "broken", "bug", "issue", "problem", "wrong", "missing", "exception", "stuck", "lag", "lagging",
		"latency", "alert", "alarm", "cannot", "can't", "cant", "unable", "doesn't work", "does not work", "isn't working",
		"not loading", "incorrect", "inconsistent", "full", "leak", "oom", "killed", "degraded", "flaky", "500", "404"}
	// Breadth: the whole system or its core is affected.
	wideZH = []string{"全部", "所有", "整个", "全体", "集群", "全站", "生产", "核心", "主节点", "平台", "系统", "都", "全都", "大面积", "紧急", "严重"}
	wideEN = []string{"all", "entire", "whole", "everything", "everyone", "nobody", "no one", "cluster", "production", "prod",
		"core", "platform", "system", "critical", "urgent", "every", "completely", "totally", "site wide", "sitewide"}
	// Narrowness: only a part is affected.
	narrowZH = []string{"一个", "某个", "个别", "部分", "一张", "一台", "偶尔", "有时", "有点", "一些", "少量", "单个", "某些", "一条"}
	narrowEN = []string{"one", "a single", "single", "some", "a few", "few", "occasionally", "sometimes", "intermittent",
		"intermittently", "a bit", "slightly", "minor", "particular", "certain", "partially", "partly"}
	// The problem is gone.
	resolvedZH = []string{"已经解决", "已解决", "解决了", "恢复正常", "恢复了", "好了", "正常了", "没问题了", "可以用了", "能用了", "搞定", "修复了", "已修复", "不用处理", "无需处理", "可以关闭", "可以关了"}
	resolvedEN = []string{"solved", "resolved", "fixed", "works now", "working now", "working again", "works again", "back to normal",
		"back up", "all good", "is fine now", "fine now", "no longer", "never mind", "nevermind", "can be closed", "close the ticket"}
	// ...unless the words say it is not gone.
	unresolvedZH = []string{"没解决", "没有解决", "未解决", "还没好", "没好", "又出现", "又挂", "又宕", "又不行", "还是不行", "仍然", "依然", "还是", "没修复", "未修复", "没恢复", "未恢复", "没有恢复"}
	unresolvedEN = []string{"not solved", "not resolved", "not fixed", "isn't fixed", "isnt fixed", "still", "again", "unresolved",
		"not back", "no longer works", "no longer working"}
	// Phrases removed before matching: question forms that contain fault
	// words ("能不能" holds "不能") and recoveries that contain "again".
	neutralPhrases = []string{"能不能", "可不可以", "是不是", "有没有", "行不行", " works again ", " working again ", " running again ", " up again "}
	// Talk that is not a fault report.
	thanksZH   = []string{"谢谢", "感谢", "多谢", "辛苦", "谢啦", "谢了"}
	thanksEN   = []string{"thanks", "thank you", "thx", "ty", "appreciate", "cheers", "great job", "well done"}
	greetZH    = []string{"你好", "您好", "早上好", "下午好", "晚上好", "大家好", "在吗", "在不在", "早安", "晚安", "哈喽"}
	greetEN    = []string{"hi", "hello", "hey", "good morning", "good afternoon", "good evening", "anyone there", "morning"}
	scheduleZH = []string{"开会", "会议", "几点", "什么时候来", "哪天", "约个时间", "安排时间", "改到", "改期", "推迟到", "明天", "后天", "下周", "周一", "周二", "周三", "周四", "周五", "有空", "方便的时间", "巡检安排", "来现场", "上门"}
	scheduleEN = []string{"meeting", "schedule", "reschedule", "what time", "which day", "tomorrow", "next week", "monday", "tuesday",
		"wednesday", "thursday", "friday", "available", "availability", "calendar", "visit", "appointment", "call at"}
	releaseZH  = []string{"新版本", "版本", "升级", "发布", "补丁", "更新说明", "release"}
	releaseEN  = []string{"release", "version", "upgrade", "patch", "changelog", "release notes", "new features"}
	reportZH   = []string{"报告", "巡检报告", "统计", "报表", "周报", "月报", "季报"}
	reportEN   = []string{"report", "reports", "statistics", "stats", "summary", "quarterly"}
	questionZH = []string{"吗", "什么时候", "何时", "怎么", "是否", "能否", "哪里", "多久", "？", "?"}
	questionEN = []string{"when", "what", "how", "where", "which", "could you", "can you", "do you", "is there", "will", "?"}
)

// normalize lower-cases text and turns everything that is not a letter,
// digit or CJK ideograph into single spaces, padding both ends, so that
// English phrases can be matched as " word ".
func normalize(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(text) {
		switch {
		case r == '\'' || r == '’':
			b.WriteByte('\'')
			space = false
		case r == '?' || r == '？':
			if !space {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			b.WriteByte(' ')
			space = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// matches returns the phrases of zh found as substrings and of en found as
// whole words in the normalised text.
func matches(norm string, zh, en []string) []string {
	var out []string
	for _, p := range zh {
		if strings.Contains(norm, p) {
			out = append(out, p)
		}
	}
	for _, p := range en {
		if strings.Contains(norm, " "+p+" ") {
			out = append(out, p)
		}
	}
	return out
}

// Classify decides whether a customer's message reports a fault and how
// severe it is. The rules, in order:
//
//  1. A message that says the problem is solved is not a fault, unless it
//     also says it is not (or is back again).
//  2. A question about a release or a report is not a fault unless it also
//     names an outage; a question about scheduling is not one unless it
//     names any fault.
//  3. Outage words ("宕机", "down", "unavailable") make it core, unless the
//     message narrows the damage to a part ("one dashboard is down") with no
//     words of breadth; fault words ("报错", "slow") with words of breadth and
//     urgency make it core too when they say nothing works.
//  4. Any other fault word makes it non-core.
//  5. Everything else (thanks, greetings, scheduling, plain talk) is not a fault.
func Classify(text string) Classification {
	norm := normalize(text)
	for _, p := range neutralPhrases {
		norm = strings.ReplaceAll(norm, p, " _ ")
	}
	severe := matches(norm, severeZH, severeEN)
	fault := matches(norm, faultZH, faultEN)
	unresolved := matches(norm, unresolvedZH, unresolvedEN)

	if resolved := matches(norm, resolvedZH, resolvedEN); len(resolved) > 0 && len(unresolved) == 0 {
		return Classification{Verdict: VerdictNotFault, Rule: "resolved", Matched: resolved}
	}
	if question := matches(norm, questionZH, questionEN); len(question) > 0 && len(severe) == 0 {
		if m := matches(norm, releaseZH, releaseEN); len(m) > 0 {
			return Classification{Verdict: VerdictNotFault, Rule: "release-question", Matched: m}
		}
		if m := matches(norm, reportZH, reportEN); len(m) > 0 {
			return Classification{Verdict: VerdictNotFault, Rule: "report-question", Matched: m}
		}
		if m := matches(norm, scheduleZH, scheduleEN); len(m) > 0 && len(fault) == 0 {
			return Classification{Verdict: VerdictNotFault, Rule: "scheduling", Matched: m}
		}
	}
	if len(severe) > 0 {
		wide := matches(norm, wideZH, wideEN)
		narrow := matches(norm, narrowZH, narrowEN)
		if len(narrow) > 0 && len(wide) == 0 {
			return Classification{Verdict: VerdictNoncore, Rule: "partial-failure", Matched: append(severe, narrow...)}
		}
		return Classification{Verdict: VerdictCore, Rule: "core-failure", Matched: append(severe, wide...)}
	}
	if len(fault) > 0 || len(unresolved) > 0 {
		return Classification{Verdict: VerdictNoncore, Rule: "fault", Matched: append(fault, unresolved...)}
	}
	for _, c := range []struct {
		rule   string
		zh, en []string
	}{{"thanks", thanksZH, thanksEN}, {"greeting", greetZH, greetEN}, {"scheduling", scheduleZH, scheduleEN},
		{"release-question", releaseZH, releaseEN}, {"report-question", reportZH, reportEN}} {
		if m := matches(norm, c.zh, c.en); len(m) > 0 {
			return Classification{Verdict: VerdictNotFault, Rule: c.rule, Matched: m}
		}
	}
	return Classification{Verdict: VerdictNotFault, Rule: "no-fault-words"}
}
