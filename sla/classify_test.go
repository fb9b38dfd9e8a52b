package sla

import (
	"testing"
	"unicode/utf8"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		text string
		want Verdict
	}{
		// Core outages, Chinese.
		{"集群全部宕机了，所有作业都跑不起来", VerdictCore},
		{"整个平台挂了，紧急！", VerdictCore},
		{"HDFS宕机了", VerdictCore},
		{"生产环境无法登录，所有人都登不上", VerdictCore},
		{"Inceptor 服务不可用，业务全部中断", VerdictCore},
		{"数据丢失了，请马上处理", VerdictCore},
		{"系统瘫痪了", VerdictCore},
		{"主节点起不来了", VerdictCore},
		{"集群又宕机了，还是没解决", VerdictCore},
		{"谢谢，不过集群又挂了", VerdictCore},
		{"平台打不开，大家都用不了", VerdictCore},
		// Core outages, English.
		{"The whole cluster is down", VerdictCore},
		{"Production is down, nobody can log in!", VerdictCore},
		{"URGENT: all jobs crashed overnight", VerdictCore},
		{"HDFS is unreachable", VerdictCore},
		{"We have an outage on the platform", VerdictCore},
		{"Hi, the cluster is down again", VerdictCore},
		{"It was fixed yesterday but the system is down again", VerdictCore},
		{"Data loss on the core tables!!", VerdictCore},
		{"The service won't start after the reboot", VerdictCore},
		// Non-core faults, Chinese.
		{"有一个报表查询很慢", VerdictNoncore},
		{"某个作业偶尔报错", VerdictNoncore},
		{"个别节点告警，磁盘快满了", VerdictNoncore},
		{"一个仪表盘打不开", VerdictNoncore},
		{"查询超时了", VerdictNoncore},
		{"导入数据失败，报错 ORA-01555", VerdictNoncore},
		{"昨天的问题还在，没有解决", VerdictNoncore},
		{"任务执行异常，请帮忙看看", VerdictNoncore},
		{"界面显示的数据不准", VerdictNoncore},
		// Non-core faults, English.
		{"one dashboard is slow", VerdictNoncore},
		{"A single node is down", VerdictNoncore},
		{"Some queries time out occasionally", VerdictNoncore},
		{"The nightly export failed with an error", VerdictNoncore},
		{"The report page shows wrong numbers", VerdictNoncore},
		{"Thanks, but it's still slow", VerdictNoncore},
		{"The problem is not solved yet", VerdictNoncore},
		{"We see an exception in the ETL logs", VerdictNoncore},
		{"Login is a bit slow this morning", VerdictNoncore},
		// Not faults: thanks and solved.
		{"谢谢，问题已经解决了", VerdictNotFault},
		{"谢谢", VerdictNotFault},
		{"辛苦了！", VerdictNotFault},
		{"已经恢复正常了，感谢", VerdictNotFault},
		{"好了好了，可以用了", VerdictNotFault},
		{"那个报错已经修复了，可以关闭", VerdictNotFault},
		{"Thanks a lot!", VerdictNotFault},
		{"Thank you, the problem is solved", VerdictNotFault},
		{"It works now, thanks", VerdictNotFault},
		{"The cluster is working again", VerdictNotFault},
		{"The slow query issue is fixed, you can close the ticket", VerdictNotFault},
		{"all good, never mind", VerdictNotFault},
		// Not faults: greetings.
		{"你好", VerdictNotFault},
		{"在吗？", VerdictNotFault},
		{"大家早上好", VerdictNotFault},
		{"Hello!", VerdictNotFault},
		{"good morning team", VerdictNotFault},
		// Not faults: scheduling.
		{"明天下午三点开会", VerdictNotFault},
		{"能不能明天来现场？", VerdictNotFault},
		{"下周二巡检安排在几点？", VerdictNotFault},
		{"Can we reschedule the meeting to Friday?", VerdictNotFault},
		{"What time will the engineer visit tomorrow?", VerdictNotFault},
		// Not faults: questions about releases and reports.
		{"新版本什么时候发布？", VerdictNotFault},
		{"新版本能修复查询慢的问题吗？", VerdictNotFault},
		{"上季度的巡检报告什么时候发？", VerdictNotFault},
		{"请问这个季度的统计报表在哪里？", VerdictNotFault},
		{"When is the next release?", VerdictNotFault},
		{"Does version 9.1 fix the slow export bug?", VerdictNotFault},
		{"Where can I find the quarterly report?", VerdictNotFault},
		// Not faults: plain talk.
		{"好的", VerdictNotFault},
		{"OK", VerdictNotFault},
		{"收到", VerdictNotFault},
		{"", VerdictNotFault},
		{"   ", VerdictNotFault},
		{"👍", VerdictNotFault},
		{"Please download the backup tomorrow", VerdictNotFault},
	}
	for _, tt := range tests {
		got := Classify(tt.text)
		if got.Verdict != tt.want {
			t.Errorf("Classify(%q) = %s (%s), want %s", tt.text, got.Verdict, got.Reason(), tt.want)
		}
	}
}

func TestClassifyReasonNamesThePhrase(t *testing.T) {
	c := Classify("集群全部宕机了")
	if c.Rule != "core-failure" || c.Reason() != "core-failure: 宕机 + 全部 + 集群" {
		t.Fatalf("reason = %q", c.Reason())
	}
	if r := Classify("谢谢，问题已经解决了").Reason(); r != "resolved: 已经解决 + 解决了" {
		t.Fatalf("reason = %q", r)
	}
	if r := Classify("one dashboard is slow").Reason(); r != "fault: slow" {
		t.Fatalf("reason = %q", r)
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"集群全部宕机了", "one dashboard is slow", "谢谢", "?", "能不能", " works again ", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Classify(s)
		switch c.Verdict {
		case VerdictCore, VerdictNoncore, VerdictNotFault:
		default:
			t.Fatalf("verdict %q", c.Verdict)
		}
		if c.Rule == "" {
			t.Fatal("no rule")
		}
		if again := Classify(s); again.Reason() != c.Reason() {
			t.Fatalf("not deterministic: %q vs %q", again.Reason(), c.Reason())
		}
		if utf8.ValidString(s) && !utf8.ValidString(c.Reason()) {
			t.Fatalf("reason is not valid UTF-8: %q", c.Reason())
		}
	})
}
