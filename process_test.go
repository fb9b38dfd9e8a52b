package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slakeeper/slakeeper/bot/slack/fakeslack"
)

// childEnv marks a run of this test binary as a slakeeper process started
// by a test (bot): the fault suite kills it with SIGKILL and restarts it;
// the memory benchmark reads its resident set.
const childEnv = "SLAKEEPER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, []string{"serve"}, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "slakeeper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// process is a `slakeeper serve` process on Slack over HTTP.
type process struct {
	tb   testing.TB
	vars map[string]string
	base string // http://addr
	// bin, if set, is a slakeeper binary to run instead of this test binary.
	bin string

	mu   sync.Mutex
	cmd  *exec.Cmd
	logs bytes.Buffer
	done chan struct{}
}

// freeAddr returns a local address nobody listens on.
func freeAddr(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newProcess prepares a slakeeper process with a configuration file, a database and a
// fake Slack; start runs it.
func newProcess(tb testing.TB, dsn, config string, fake *fakeslack.Server, secret string) *process {
	cfg := tb.TempDir() + "/slakeeper.yaml"
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		tb.Fatal(err)
	}
	addr := freeAddr(tb)
	b := &process{tb: tb, base: "http://" + addr, vars: map[string]string{"DATABASE_URL": dsn, "CONFIG": cfg,
		"SLACK_BOT_TOKEN": fake.BotToken, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": fake.APIURL(), "HTTP_ADDR": addr,
		"METRICS_ADDR": "127.0.0.1:0"}}
	tb.Cleanup(b.stop)
	return b
}

// start runs the process and waits until /readyz says ready.
func (b *process) start() {
	b.tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	if b.bin != "" {
		cmd = exec.Command(b.bin, "serve")
		cmd.Env = os.Environ()
	}
	for k, v := range b.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	b.mu.Lock()
	cmd.Stdout = io.Discard
	cmd.Stderr = &lockedWriter{mu: &b.mu, w: &b.logs}
	b.mu.Unlock()
	if err := cmd.Start(); err != nil {
		b.tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	b.mu.Lock()
	b.cmd, b.done = cmd, done
	b.mu.Unlock()
	for i := 0; ; i++ {
		if code, _ := b.get("/readyz"); code == http.StatusOK {
			return
		}
		select {
		case <-done:
			b.tb.Fatalf("slakeeper exited at start:\n%s", b.log())
		default:
		}
		if i > 1500 {
			b.tb.Fatalf("slakeeper never became ready:\n%s", b.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// take hands over the running process, if any, to whoever ends it.
func (b *process) take() (*exec.Cmd, chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cmd, done := b.cmd, b.done
	b.cmd = nil
	return cmd, done
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would.
func (b *process) kill() {
	if cmd, done := b.take(); cmd != nil {
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// stop ends the process with SIGTERM (a graceful shutdown) and waits.
func (b *process) stop() {
	cmd, done := b.take()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func (b *process) pid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return 0
	}
	return b.cmd.Process.Pid
}

// exited says whether the last process started has ended.
func (b *process) exited() bool {
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	select {
	case <-done:
		return true
	default:
		return false
	}
}

func (b *process) log() string { b.mu.Lock(); defer b.mu.Unlock(); return b.logs.String() }

var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}

func (b *process) get(path string) (int, string) {
	res, err := httpClient.Get(b.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// post sends a request signed as Slack signs it; a refused connection is
// status 0.
func (b *process) post(path, contentType string, body []byte, secret string) int {
	req, _ := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader(body))
	req.Header = fakeslack.Sign(secret, body, time.Now())
	req.Header.Set("Content-Type", contentType)
	res, err := httpClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// event is a Slack message event of a customer in a channel.
func event(id, channel, user, ts, text string) []byte {
	return fmt.Appendf(nil, `{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":%q,"event_time":1,`+
		`"event":{"type":"message","channel":%q,"user":%q,"text":%q,"ts":%q,"event_ts":%q,"channel_type":"channel"}}`,
		id, channel, user, text, ts, ts)
}

// command is a signed slash command's form.
func command(user, channel, cmd, text, responseURL string, n int) []byte {
	return []byte(url.Values{"command": {cmd}, "text": {text}, "user_id": {user}, "channel_id": {channel},
		"response_url": {responseURL}, "team_id": {"T1"}, "trigger_id": {"trig-" + strconv.Itoa(n)}}.Encode())
}

// buildBinary builds slakeeper as it ships, for measurements of the real
// process.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := tb.TempDir() + "/slakeeper"
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// rssKB reads a process's current and peak resident set from /proc.
func rssKB(pid int) (cur, peak int, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "VmRSS":
			cur = n
		case "VmHWM":
			peak = n
		}
	}
	return cur, peak, sc.Err()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
