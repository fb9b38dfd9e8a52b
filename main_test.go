package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
	"github.com/slakeeper/slakeeper/bot/telegram/faketelegram"

	"github.com/slakeeper/slakeeper/storage/storagetest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// The console demo of the README, start to finish, on embedded SQLite: a
// report, a follow-up that joins it, a refusal, a staff reply that is the
// first response, a message the classifier sends to triage and its
// decision, an overdue clock.
func TestConsoleDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	script := strings.Join([]string{
		"集群全部宕机了，所有作业都跑不起来",
		"还是不行，HDFS 也连不上了",
		"/ack 1",
		"/as wang",
		"/in acme",
		"收到，我们正在排查，请稍等",
		"/as amy",
		"should the ops dashboard show yesterday's numbers at 8am already?",
		"/as wang",
		"/triage 2 noncore",
		"/advance 3h",
		"/status 1",
		"/as amy",
		"/ack 1",
		"/status 1",
		"/quit",
	}, "\n")
	var out, errs bytes.Buffer
	err := run(context.Background(), nil, env(map[string]string{"DATABASE_URL": db}), strings.NewReader(script), &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	o := out.String()
	for _, want := range []string{
		"database: " + db + " (sqlite)",
		"登记为事件 #1（核心功能不可用）",
		"• 响应：", "（剩余 30分钟）", "（剩余 2小时）", "（剩余 4小时）",
		"判断依据: core 1.00",
		"[确认 = /ack 1] [接手 = /take 1]",
		"bot → [#eng] 事件 #1 客户补充（李雷）：还是不行，HDFS 也连不上了",
		"抱歉，您没有权限执行 /ack",
		"✓ 已按时完成",
		"We have your message (#2). An engineer is checking whether it needs fault handling",
		"#2 · Globex Ltd · 待定（可能为非核心故障） · 待分诊",
		"[核心故障 = /triage 2 core] [非核心故障 = /triage 2 noncore] [不是故障 = /triage 2 notfault]",
		"事件 #2 已确认为故障（非核心故障）",
		"An engineer confirmed it: your report is incident #2 (non-core).",
		"到场：", "⚠ 已超时 1小时",
		"Sorry, you may not use /ack.",
		"Incident #1 not found.",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("missing %q in console output:\n%s", want, o)
		}
	}
	if n := strings.Count(o, "登记为事件"); n != 1 {
		t.Errorf("%d incidents opened for acme (the follow-up and the staff reply open none):\n%s", n, o)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateOnPostgres(t *testing.T) {
	dsn := storagetest.NewPostgresDB(t)
	var out bytes.Buffer
	for range 2 {
		out.Reset()
		if err := run(context.Background(), []string{"migrate"}, env(map[string]string{"DATABASE_URL": dsn}), nil, &out, &out); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(out.String(), "postgres: applied 0 migration(s) []; schema version 10") {
		t.Fatal(out.String())
	}
}

// serve end to end: Slack over HTTP on PostgreSQL, from start to a graceful
// shutdown.
func TestServeSlack(t *testing.T) {
	dsn := storagetest.NewPostgresDB(t)
	fake := fakeslack.New("xoxb-serve", "", "C0ACMESUP", "C0ENGINEERS")
	defer fake.Close()
	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	writeFile(t, cfg, `customers: [{id: acme, name: Acme}]
people: [{id: wang, name: Wang, role: engineer, slack: UW}]
channels:
  - {platform: slack, id: C0ACMESUP, kind: customer, customer: acme}
  - {platform: slack, id: C0ENGINEERS, kind: engineering}
`)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	vars := map[string]string{"DATABASE_URL": dsn, "CONFIG": cfg, "SLACK_BOT_TOKEN": "xoxb-serve", "SLACK_SIGNING_SECRET": "s3cret",
		"SLACK_API_URL": fake.APIURL(), "HTTP_ADDR": addr, "METRICS_ADDR": metricsAddr}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), nil, io.Discard, &logs) }()
	base := "http://" + addr
	for i := 0; ; i++ {
		res, err := http.Get(base + "/readyz")
		if err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if i > 6000 { // a minute: serve trains its classifier first (seconds under the race detector)
			t.Fatalf("never ready: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fake.Said("C0ACMESUP", "1764032400.000100", "UX", "the whole cluster is down")
	body := []byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"message","channel":"C0ACMESUP","user":"UX","text":"the whole cluster is down","ts":"1764032400.000100"}}`)
	req, _ := http.NewRequest(http.MethodPost, base+"/slack/events", bytes.NewReader(body))
	req.Header = fakeslack.Sign("s3cret", body, time.Now())
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("event: %v %v", res, err)
	}
	for i := 0; len(fake.Messages("C0ENGINEERS")) == 0; i++ {
		if i > 500 {
			t.Fatal("the card never reached Slack")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ack := command("UW", "C0ENGINEERS", "/ack", "1", fake.ResponseURL("ack"), 1)
	req, _ = http.NewRequest(http.MethodPost, base+"/slack/commands", bytes.NewReader(ack))
	req.Header = fakeslack.Sign("s3cret", ack, time.Now())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err = http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("/ack: %v %v", res, err)
	}
	res.Body.Close()
	// The metrics name customers: they are on the admin listener only.
	if res, err = http.Get(base + "/metrics"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("public /metrics: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("admin /metrics: %v %v", res, err)
	}
	m, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`slakeeper_incidents_opened_total{customer="acme",severity="core"} 1`,
		`slakeeper_intake_seconds_count{platform="slack"} 1`, `slakeeper_sends_total{platform="slack",result="sent"}`,
		"# TYPE slakeeper_outbox_depth gauge", "# TYPE slakeeper_outbox_oldest_seconds gauge",
		`slakeeper_state_changes_total{kind="acknowledged"} 1`, `slakeeper_command_seconds_count{platform="slack"} 1`,
		`slakeeper_build_info{goversion="go`, "\ngo_goroutines ", "\nprocess_start_time_seconds "} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "xoxb-serve") || strings.Contains(logs.String(), "s3cret") {
		t.Fatal("a secret reached the logs")
	}
	if !strings.Contains(logs.String(), `"metrics_addr":"`+metricsAddr+`"`) {
		t.Fatalf("the serving line does not name the metrics address:\n%s", logs.String())
	}
}

// serve on Telegram: long polling on PostgreSQL, then a graceful shutdown.
func TestServeTelegram(t *testing.T) {
	dsn := storagetest.NewPostgresDB(t)
	const token = "7000001:AAH-serve-token"
	fake := faketelegram.New(token, -100, -200)
	defer fake.Close()
	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	writeFile(t, cfg, `customers: [{id: acme, name: Acme, language: en}]
channels:
  - {platform: telegram, id: "-100", kind: customer, customer: acme}
  - {platform: telegram, id: "-200", kind: engineering}
`)
	vars := map[string]string{"DATABASE_URL": dsn, "CONFIG": cfg, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_URL": fake.URL,
		"HTTP_ADDR": freeAddr(t), "METRICS_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{}, env(vars), nil, io.Discard, &logs) }()
	fake.Say(-100, 42, "Ann", "the whole cluster is down", 0, 0)
	for i := 0; len(fake.BotMessages(-200)) == 0; i++ {
		if i > 6000 { // a minute: serve trains its classifier first
			t.Fatal("the card never reached Telegram")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m := fake.BotMessages(-100); len(m) != 1 || !strings.Contains(m[0].Plain, "We have your report: incident #1") {
		t.Fatalf("customer reply %+v", m)
	}
	if len(fake.Commands("zh")) == 0 {
		t.Fatal("no command menu")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "AAH-serve-token") {
		t.Fatal("the token reached the logs")
	}
}

// slakeeper classify: one JSON verdict per line; --eval measures a labelled
// file; bad input is refused with the line that is wrong.
func TestClassifyCommand(t *testing.T) {
	var out, errs bytes.Buffer
	in := strings.NewReader("集群全部宕机了，所有作业都跑不起来\n谢谢，问题已经解决了\n\nnot down, just one report is slow\n")
	if err := run(context.Background(), []string{"classify"}, env(nil), in, &out, &errs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	var got []struct {
		Text       string
		Verdict    string
		Confidence float64
		Reason     string
	}
	for _, l := range lines {
		var v struct {
			Text       string
			Verdict    string
			Confidence float64
			Reason     string
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got = append(got, v)
	}
	if got[0].Verdict != "core" || got[1].Verdict != "notfault" || got[2].Verdict != "notfault" || got[3].Verdict != "noncore" ||
		got[0].Confidence <= 0.5 || !strings.HasPrefix(got[0].Reason, "core ") || got[0].Text != "集群全部宕机了，所有作业都跑不起来" {
		t.Fatalf("verdicts %+v", got)
	}

	file := filepath.Join(t.TempDir(), "eval.tsv")
	writeFile(t, file, "core\t集群全部宕机了\nnone\t谢谢\nnoncore\t有一个报表很慢\n")
	out.Reset()
	if err := run(context.Background(), []string{"classify", "--eval", file}, env(nil), nil, &out, &errs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"messages          3", "accuracy          1.000", "fault recall      1.000", "label \\ verdict"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
	writeFile(t, file, "core\t集群全部宕机了\nmaybe\t谢谢\n")
	if err := run(context.Background(), []string{"classify", "--eval", file}, env(nil), nil, &out, &errs); err == nil ||
		!strings.Contains(err.Error(), `line 2: unknown label "maybe"`) {
		t.Errorf("bad label: %v", err)
	}
	if err := run(context.Background(), []string{"classify", "stray"}, env(nil), nil, &out, &errs); err == nil {
		t.Error("a stray argument was accepted")
	}
}

// `slakeeper version` names the build; a LOG_LEVEL that is not a level is
// refused before anything is opened.
func TestVersionAndLogLevel(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, env(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "slakeeper ") || !strings.Contains(out.String(), "go1.") {
		t.Fatalf("version: %q", out.String())
	}
	db := filepath.Join(t.TempDir(), "never.db")
	for _, cmd := range []string{"console", "serve"} {
		err := run(context.Background(), []string{cmd}, env(map[string]string{"LOG_LEVEL": "loud", "DATABASE_URL": db,
			"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s"}), strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") {
			t.Fatalf("%s with LOG_LEVEL=loud: %v", cmd, err)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("a bad LOG_LEVEL opened the database")
	}
	if err := run(context.Background(), []string{"console"}, env(map[string]string{"LOG_LEVEL": "DEBUG", "DATABASE_URL": db}),
		strings.NewReader("/quit\n"), io.Discard, io.Discard); err != nil {
		t.Fatalf("LOG_LEVEL=DEBUG: %v", err)
	}
}

// serve will not start when configured channels are on a platform it does
// not run (here the built-in example's console channels): it would report
// ready and drop every message to them.
func TestServeRefusesUnservedChannels(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never.db")
	err := run(context.Background(), []string{"serve"}, env(map[string]string{"DATABASE_URL": db,
		"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s"}), nil, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("serve started with only console channels configured")
	}
	for _, want := range []string{"no running adapter", "console channels acme, globex, eng, mgmt", "slakeeper console"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("the refusal opened the database")
	}
}
