// Command slakeeper is a chat-ops bot that keeps a vendor's service
// commitments: it turns customers' chat messages into incidents, runs the
// contract's clocks and lets engineers drive incidents from Slack, Telegram
// or a terminal.
//
//	slakeeper                 the console demo when no chat token is set
//	slakeeper console         play customers and engineers in the terminal
//	slakeeper serve           run on Slack and Telegram
//	slakeeper migrate         apply database migrations and exit
//	slakeeper check-config    validate the configuration and exit
//	slakeeper classify        classify messages from standard input (--eval FILE: measure)
//	slakeeper version         the version, commit and Go version of this build
//
// main is wiring only: it reads flags and the environment, builds the
// pieces and owns the signals.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // zones work in a scratch container too

	"github.com/slakeeper/slakeeper/bot"
	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/bot/config"
	"github.com/slakeeper/slakeeper/bot/console"
	"github.com/slakeeper/slakeeper/bot/metrics"
	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/storage"
)

//go:embed examples/slakeeper.yaml
var exampleConfig []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "slakeeper:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "" {
		cmd = "console"
		if len(platforms.Enabled(getenv)) > 0 {
			cmd = "serve"
		}
	}
	switch cmd {
	case "console":
		return runConsole(ctx, args, getenv, stdin, stdout, stderr)
	case "serve":
		return runServe(ctx, getenv, stderr)
	case "migrate":
		return runMigrate(ctx, getenv, stdout)
	case "check-config":
		return runCheckConfig(args, getenv, stdout)
	case "classify":
		return runClassify(args, stdin, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: slakeeper [console|serve|migrate|check-config [file]|classify [--eval file]|version]
  (no command)   the console demo when no chat token is set, else serve
  classify       messages on standard input, one JSON verdict per line out;
                 --eval FILE: accuracy, recall per class and the confusion matrix
                 of labelled "label<TAB>text" lines (labels core, noncore, none);
                 --heldout: the same on the shipped held-out split; --cv 5:
                 cross-validation on the shipped corpus; --misses lists errors
environment: DATABASE_URL (postgres://... or a SQLite file path; default slakeeper.db),
  CONFIG (YAML file; default: the built-in example), SLACK_BOT_TOKEN, SLACK_APP_TOKEN,
  SLACK_SIGNING_SECRET, SLACK_API_URL, SLACK_TEAM_ID (the one workspace served),
  TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL,
  TELEGRAM_WEBHOOK_SECRET, TELEGRAM_WEBHOOK_URL, HTTP_ADDR (default :8080),
  METRICS_ADDR (GET /metrics for Prometheus; default 127.0.0.1:9090, loopback only),
  LOG_LEVEL (debug, info, warn or error; default info for serve, warn for console)
`

func loadConfig(getenv func(string) string, override string) (*config.Config, error) {
	path := override
	if path == "" {
		path = getenv("CONFIG")
	}
	if path == "" {
		return config.Parse("examples/slakeeper.yaml (built in)", exampleConfig, platforms)
	}
	return config.Load(path, platforms)
}

// logLevel is LOG_LEVEL's level, or def when it is not set.
func logLevel(getenv func(string) string, def slog.Level) (slog.Level, error) {
	v := strings.TrimSpace(getenv("LOG_LEVEL"))
	if v == "" {
		return def, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return def, fmt.Errorf("LOG_LEVEL %q is not a level: use debug, info, warn or error", v)
	}
	return l, nil
}

// version is the release this binary was built as; a release build sets it
// with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// versionString is the version, the commit it was built from (when the
// build knows it) and the Go version.
func versionString() string {
	rev, dirty := revision()
	out := "slakeeper " + version
	if rev != "" {
		out += " commit " + rev[:min(12, len(rev))]
		if dirty {
			out += "+changes"
		}
	}
	return out + " " + runtime.Version()
}

// revision is the commit this binary was built from and whether the tree
// had uncommitted changes; rev is "" when the build does not know.
func revision() (rev string, dirty bool) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	return rev, dirty
}

// buildInfo names this build in slakeeper_build_info.
func buildInfo() metrics.BuildInfo {
	rev, dirty := revision()
	if rev != "" && dirty {
		rev += "+changes"
	}
	return metrics.BuildInfo{Version: version, Revision: rev}
}

func databaseURL(getenv func(string) string) string {
	if u := getenv("DATABASE_URL"); u != "" {
		return u
	}
	return "slakeeper.db"
}

// openStore connects to the database, migrates it and loads the
// configured directory into it.
func openStore(ctx context.Context, getenv func(string) string, cfg *config.Config) (*storage.Store, error) {
	store, err := storage.Open(ctx, databaseURL(getenv))
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, err
	}
	if err := store.SyncDirectory(ctx, cfg.Directory); err != nil {
		store.Close()
		return nil, fmt.Errorf("load configuration into the database: %w", err)
	}
	return store, nil
}

func newDirectory(cfg *config.Config) *sla.Directory {
	return sla.NewDirectory(cfg.Directory, sla.Settings{Zone: cfg.Location, DefaultLang: cfg.Lang, BasePolicy: cfg.BasePolicy, Rotation: cfg.Rotation,
		Calendar: cfg.Schedule, Critical: cfg.Critical, StaffRepliesNotFirstResponse: !cfg.StaffReplyIsFirstResponse, Flood: cfg.FloodLimit})
}

func runConsole(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	echo := fs.Bool("echo", !isTerminal(stdin), "repeat input lines (for piped input)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level, err := logLevel(getenv, slog.LevelWarn)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv, "")
	if err != nil {
		return err
	}
	store, err := openStore(ctx, getenv, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	clock := chat.NewManualClock(chat.SystemClock{}.Now())
	classifier := bot.NewClassifier(store, log)
	if err := classifier.Retrain(ctx); err != nil {
		return err
	}
	svc := &bot.Service{Store: store, Dir: newDirectory(cfg), Classifier: classifier, Log: log}
	con := &console.Console{Handler: &bot.Router{Svc: svc, Clock: clock, Log: log}, Dir: svc.Dir, Clock: clock, Out: stdout, Echo: *echo}
	con.Runtime = &bot.Runtime{Svc: svc, Engine: bot.NewEngine(svc, clock, log), Announcer: &bot.Announcer{Svc: svc, Clock: clock, Log: log},
		Dispatcher: bot.NewDispatcher(store, map[string]chat.Sender{chat.PlatformConsole: con}, clock, log)}
	fmt.Fprintf(stdout, "database: %s (%s)\n", storage.RedactDSN(databaseURL(getenv)), store.Dialect())
	return con.Run(ctx, stdin)
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runServe runs the bot on the configured chat platforms until ctx ends,
// then shuts down in order: stop taking input (HTTP, Socket Mode), let the
// engine finish its round and the dispatcher its sends, wait for late
// answers, close the database.
func runServe(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	level, err := logLevel(getenv, slog.LevelInfo)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	enabled, cfg, err := servable(getenv)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, getenv, cfg)
	if err != nil {
		return err
	}
	defer store.Close()

	clock := chat.SystemClock{}
	dir := newDirectory(cfg)
	// The classifier learns from the shipped corpus and this deployment's
	// corrections before the first message is read (about two seconds).
	classifier := bot.NewClassifier(store, log)
	if err := classifier.Retrain(ctx); err != nil {
		return err
	}
	svc := &bot.Service{Store: store, Dir: dir, Classifier: classifier, Log: log}
	router := &bot.Router{Svc: svc, Clock: clock, Log: log}
	engine := bot.NewEngine(svc, clock, log)
	senders := map[string]chat.Sender{}
	disp := bot.NewDispatcher(store, senders, clock, log)
	svc.Kick = func() { disp.Kick(); engine.Wake() }
	engine.Kick = disp.Kick
	registry := metrics.New(buildInfo())
	svc.Metrics = bot.NewMetrics(registry, store)
	disp.Metrics = svc.Metrics

	mux := http.NewServeMux()
	var ready atomic.Bool
	healthRoutes(mux, store, &ready)

	// Input: the platforms' sockets and pollers and the two listeners.
	inputCtx, stopInput := context.WithCancel(ctx)
	defer stopInput()
	var inputs sync.WaitGroup
	quarantine := &bot.Quarantine{Store: store, Clock: clock, Log: log, Metrics: svc.Metrics}
	env := chat.Env{Getenv: getenv, Handler: router, Directory: dir, Clock: clock, Log: log, Mux: mux, Locks: store,
		Quarantine: quarantine}
	closers, err := startPlatforms(ctx, inputCtx, enabled, env, senders, &inputs)
	if err != nil {
		return err
	}
	addr := getenv("HTTP_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	admin, adminLn, err := adminServer(getenv("METRICS_ADDR"), metrics.Handler(registry, log))
	if err != nil {
		return err
	}
	defer adminLn.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	server, ln := publicServer(ln, mux, publicLimits)
	serveHTTP(&inputs, log, "http server", server, ln)
	serveHTTP(&inputs, log, "admin server", admin, adminLn)

	// Work: the clocks, the outbox, the learning and the calendar.
	announcer := &bot.Announcer{Svc: svc, Clock: clock, Log: log}
	schedule, err := newSchedule(cfg, svc, announcer, clock, log)
	if err != nil {
		return err
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var work sync.WaitGroup
	work.Add(3)
	go func() { defer work.Done(); engine.Run(workCtx) }()
	go func() { defer work.Done(); disp.Run(workCtx) }()
	// Trains again whenever corrections have accumulated.
	go func() { defer work.Done(); classifier.Run(workCtx) }()
	schedule.Start()
	schedule.RunNow("calendar")
	ready.Store(true)
	log.Info("slakeeper serving", "addr", ln.Addr().String(), "metrics_addr", adminLn.Addr().String(), "database", string(store.Dialect()))

	<-ctx.Done()
	log.Info("shutting down")
	ready.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	server.Shutdown(shutdownCtx)
	admin.Shutdown(shutdownCtx)
	stopInput()
	inputs.Wait()
	for _, c := range closers {
		c()
	}
	schedule.Stop()
	stopWork()
	work.Wait()
	return nil
}

// servable returns the platforms the environment switches on and the
// configuration, or why serve must not start: no platform, a bad
// configuration, or channels on a platform that will not run.
func servable(getenv func(string) string) ([]chat.Platform, *config.Config, error) {
	enabled := platforms.Enabled(getenv)
	if len(enabled) == 0 {
		var how []string
		for _, p := range platforms.All() {
			if p.Enabled != nil {
				how = append(how, p.Env[0])
			}
		}
		return nil, nil, fmt.Errorf("no chat platform configured: set %s, or try `slakeeper console`", strings.Join(how, " or "))
	}
	cfg, err := loadConfig(getenv, "")
	if err != nil {
		return nil, nil, err
	}
	if err := unserved(cfg, enabled); err != nil {
		return nil, nil, err
	}
	return enabled, cfg, nil
}

// healthRoutes serves GET /healthz (the process is up) and GET /readyz
// (the database is reachable and migrated, the platforms are connected).
func healthRoutes(mux *http.ServeMux, store *storage.Store, ready *atomic.Bool) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		have, want, err := store.SchemaVersion(r.Context())
		switch {
		case err != nil:
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		case have != want:
			http.Error(w, "migrations not applied", http.StatusServiceUnavailable)
		case !ready.Load():
			http.Error(w, "adapters not connected", http.StatusServiceUnavailable)
		default:
			io.WriteString(w, "ready\n")
		}
	})
}

// startPlatforms starts each enabled platform: its sender joins senders,
// its input loop runs under inputCtx in inputs, and its Close is returned
// to be called once input has stopped.
func startPlatforms(ctx, inputCtx context.Context, enabled []chat.Platform, env chat.Env, senders map[string]chat.Sender,
	inputs *sync.WaitGroup) ([]func(), error) {
	var closers []func()
	for _, p := range enabled {
		r, err := p.Start(ctx, env)
		if err != nil {
			return closers, fmt.Errorf("%s: %w", p.Name, err)
		}
		senders[p.Name] = r.Sender
		if r.Close != nil {
			closers = append(closers, r.Close)
		}
		if r.Run != nil {
			inputs.Add(1)
			go func() {
				defer inputs.Done()
				if err := r.Run(inputCtx); err != nil {
					env.Log.Error("input stopped", "platform", p.Name, "err", err)
				}
			}()
		}
	}
	return closers, nil
}

// serveHTTP serves server on ln in a goroutine owned by inputs until the
// server is shut down.
func serveHTTP(inputs *sync.WaitGroup, log *slog.Logger, name string, server *http.Server, ln net.Listener) {
	inputs.Add(1)
	go func() {
		defer inputs.Done()
		if err := server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+" stopped", "err", err)
		}
	}()
}

// newSchedule is serve's cron: the calendar every minute, and forgetting
// old delivery ids every hour.
func newSchedule(cfg *config.Config, svc *bot.Service, announcer *bot.Announcer, clock chat.Clock, log *slog.Logger) (*bot.Schedule, error) {
	schedule := bot.NewSchedule(cfg.Location, log)
	if err := schedule.Add("* * * * *", "calendar", func(ctx context.Context) error { _, err := announcer.Tick(ctx); return err }); err != nil {
		return nil, err
	}
	if err := schedule.Add("17 * * * *", "prune", func(ctx context.Context) error {
		n, err := svc.PruneInbound(ctx, clock.Now())
		if n > 0 {
			log.Info("forgot old deliveries", "n", n)
		}
		return err
	}); err != nil {
		return nil, err
	}
	return schedule, nil
}

// unserved refuses a configuration with channels on a platform that will
// not run: every message to them would be dropped.
func unserved(cfg *config.Config, running []chat.Platform) error {
	on := map[string]bool{}
	for _, p := range running {
		on[p.Name] = true
	}
	missing := map[string][]string{}
	var order []string
	for _, ch := range cfg.Directory.Channels {
		if on[ch.Platform] {
			continue
		}
		if missing[ch.Platform] == nil {
			order = append(order, ch.Platform)
		}
		missing[ch.Platform] = append(missing[ch.Platform], ch.ChatID)
	}
	if len(order) == 0 {
		return nil
	}
	var lines []string
	for _, name := range order {
		p, _ := platforms.Lookup(name)
		lines = append(lines, fmt.Sprintf("  %s channels %s: %s, or remove them from the configuration", name, strings.Join(missing[name], ", "), p.HowToRun))
	}
	return fmt.Errorf("refusing to serve: configured channels have no running adapter, so nothing would reach them\n%s", strings.Join(lines, "\n"))
}

func runMigrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	store, err := storage.Open(ctx, databaseURL(getenv))
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	have, _, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: applied %d migration(s) %v; schema version %d\n", store.Dialect(), len(applied), applied, have)
	return nil
}

func runCheckConfig(args []string, getenv func(string) string, stdout io.Writer) error {
	file := ""
	if len(args) > 0 {
		file = args[0]
	}
	cfg, err := loadConfig(getenv, file)
	if err != nil {
		return err
	}
	d := cfg.Directory
	fmt.Fprintf(stdout, "ok: %d customers, %d people, %d channels; zone %s, language %s\n",
		len(d.Customers), len(d.People), len(d.Channels), cfg.Location, cfg.Lang)
	return nil
}
