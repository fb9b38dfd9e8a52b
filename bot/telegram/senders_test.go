package telegram_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
)

// An anonymous admin of a customer's group (from GroupAnonymousBot, with
// the group as sender_chat) is that customer, named after the group; a
// channel's post Telegram forwards into the group by itself opens nothing
// and is confirmed all the same.
func TestTelegramAnonymousAdminAndAutomaticForward(t *testing.T) {
	e := newEnv(t, "")
	e.poll()
	e.tg.AutoForward(acmeGroup, -1009990, "【公告】集群全部宕机了，所有作业都跑不起来，正在处理")
	e.tg.SayAnonymous(acmeGroup, "星辰数据运维群", "集群全部宕机了，所有作业都跑不起来")
	e.until("the anonymous admin's incident", func() bool { return e.incidents() == 1 })
	e.until("both updates confirmed", func() bool { return e.tg.Pending() == 0 })
	if e.incidents() != 1 {
		t.Fatalf("%d incidents: the automatic forward opened one", e.incidents())
	}
	inc, err := e.store.Incident(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.CustomerID != "acme" || inc.ReporterName != "星辰数据运维群" || inc.ReportedBy != "" || !strings.Contains(inc.Title, "集群全部宕机了") {
		t.Fatalf("incident %+v", inc)
	}
	if !strings.Contains(e.logs.String(), "ignored an automatic forward") {
		t.Fatal("the automatic forward was not logged")
	}

	// A group without a title names the admin as such; an anonymous admin
	// is never staff, so a command changes nothing.
	e.tg.SayAnonymous(acmeGroup, "", "补充：HDFS 也连不上")
	var last storage.Message
	e.until("the second message", func() bool {
		ms, err := e.store.Messages(context.Background(), storage.MessageFilter{CustomerID: "acme"})
		if err != nil || len(ms) != 2 {
			return false
		}
		last = ms[1]
		return true
	})
	if last.AuthorName != "匿名管理员 / anonymous admin" || last.AuthorID != "" || last.Staff {
		t.Fatalf("message %+v", last)
	}
	e.tg.SayAnonymous(engGroup, "工程师群", "/ack 1")
	e.until("the command confirmed", func() bool { return e.tg.Pending() == 0 })
	e.deliver()
	if e.status(1) != sla.StatusOpen {
		t.Fatal("an anonymous admin acknowledged")
	}
}
