// Package devstack assembles the whole gateway in one process for local
// use: the dev gateway (`make dev`), the call simulator and the benchmark
// harness. With no configuration it embeds a MySQL-compatible engine, an
// in-process Redis and the Cal.com sandbox seeded from the tenant file;
// given DSNs/URLs it uses the real services instead. Every request goes
// through the same apigw adapter and handlers as on Lambda.
package devstack

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/tenantfile"
)

// Defaults a newcomer sees; they only ever work locally.
const (
	DefaultRetellAPIKey  = "key_dev_local_only"
	DefaultWebhookSecret = "whsec_dev_local_only"
	DefaultCalcomAPIKey  = "cal_dev_local_only"
	DefaultListenAddr    = "127.0.0.1:8080"
	DefaultAdminToken    = "admin_dev_local_only"
)

// Options configure a stack; zero values mean embedded defaults.
type Options struct {
	MySQLDSN      string // "" = embedded engine
	RedisAddr     string // "" = in-process Redis
	RedisPrefix   string // key prefix (tests pass a unique namespace)
	CalcomBaseURL string // "" = sandbox
	CalcomAPIKey  string
	RetellAPIKey  string
	WebhookSecret string
	AdminToken    string
	TenantFile    []byte // "" = the demo tenant
	ListenAddr    string // "" = DefaultListenAddr; "127.0.0.1:0" picks a free port
	Logger        *slog.Logger
	LogOutput     io.Writer // where the JSON logs go (default stderr)
	Clock         booking.Clock
	CalcomLatency time.Duration
	Flags         *platform.Flags // nil = defaults of the dev stage
	NoWorker      bool            // don't run the retry worker in the background
}

// Stack is a running gateway.
type Stack struct {
	Deps      *app.Deps
	Sandbox   *calcomtest.Sandbox // nil when a real Cal.com is configured
	Queue     *queue.LocalQueue
	Processor *queue.Processor
	Tenant    *booking.TenantConfig
	URL       string
	Embedded  bool // MySQL is the embedded engine
	server    *http.Server
	closers   []func()
	cancel    context.CancelFunc
}

func or(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// Start builds and starts a stack. It returns once the gateway accepts
// requests.
func Start(ctx context.Context, o Options) (*Stack, error) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	st := &Stack{}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	clock := o.Clock
	if clock == nil {
		clock = booking.SystemClock
	}
	logOut := o.LogOutput
	if logOut == nil {
		logOut = os.Stderr
	}
	logger := o.Logger
	if logger == nil {
		logger = platform.NewLogger(logOut, slog.LevelInfo, slog.String("stage", "dev"))
	}
	flags := platform.DefaultFlags(platform.StageDev)
	if o.Flags != nil {
		flags = *o.Flags
	}

	// MySQL: real or embedded.
	dsn := o.MySQLDSN
	if dsn == "" {
		em, err := startEmbeddedMySQL("gateway")
		if err != nil {
			return nil, err
		}
		st.closers = append(st.closers, func() { em.Close() })
		dsn, st.Embedded = em.DSN("gateway"), true
	}
	var db interface{ Close() error }
	sqlDB, err := openWithRetry(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	db = sqlDB
	st.closers = append(st.closers, func() { db.Close() })
	if _, err := mysql.Migrate(ctx, sqlDB); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	store := mysql.NewStore(sqlDB, pii.DevKeyring(), clock)

	// Redis: real or in-process.
	addr := o.RedisAddr
	if addr == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return nil, fmt.Errorf("miniredis: %w", err)
		}
		st.closers = append(st.closers, mr.Close)
		addr = mr.Addr()
	}
	rc := redis.NewClient(redis.Options{Addr: addr})
	st.closers = append(st.closers, func() { rc.Close() })
	keys := redis.Keys{Prefix: or(o.RedisPrefix, redis.DefaultPrefix)}

	// Tenant.
	tf := o.TenantFile
	if len(tf) == 0 {
		tf = tenantfile.Demo()
	}
	cfg, err := tenantfile.Parse(tf)
	if err != nil {
		return nil, err
	}
	tc := &redis.TenantCache{Client: rc, Keys: keys}
	if _, err := tenantfile.Apply(ctx, store, cfg, tc.Invalidate, false); err != nil {
		return nil, fmt.Errorf("tenant apply: %w", err)
	}
	st.Tenant = cfg

	// Listen first, so the sandbox knows where to send webhooks.
	ln, err := net.Listen("tcp", or(o.ListenAddr, DefaultListenAddr))
	if err != nil {
		return nil, err
	}
	st.URL = "http://" + ln.Addr().String()

	webhookSecret := or(o.WebhookSecret, DefaultWebhookSecret)
	calURL, calKey := o.CalcomBaseURL, or(o.CalcomAPIKey, DefaultCalcomAPIKey)
	if calURL == "" {
		sb := calcomtest.New(calcomtest.Options{APIKeys: []string{calKey}, Clock: clock, Latency: o.CalcomLatency,
			WebhookURL: st.URL + "/webhooks/calcom", WebhookSecret: webhookSecret})
		st.closers = append(st.closers, sb.Close)
		if err := sb.SeedTenant(cfg); err != nil {
			return nil, err
		}
		st.Sandbox, calURL = sb, sb.URL()
	}

	lq := queue.NewLocalQueue(queue.LocalOptions{Clock: clock})
	st.Queue = lq
	metrics := platform.NopMetrics{}
	d := &app.Deps{
		Config:  platform.Config{Stage: platform.StageDev, Version: "dev", QueueDegradedDepth: 100},
		Flags:   flags,
		Logger:  logger,
		Metrics: metrics,
		Tracer:  platform.NopTracer{},
		Clock:   clock,
		Store:   store, Redis: rc, Keys: keys,
		Publisher: lq, QueueDepth: lq,
		RetellAPIKey:        or(o.RetellAPIKey, DefaultRetellAPIKey),
		CalcomWebhookSecret: webhookSecret,
		InboundFallback:     []byte(platform.DefaultInboundFallback),
		AdminToken:          or(o.AdminToken, DefaultAdminToken),
	}
	d.UseCalcom(calURL, func(context.Context, booking.Tenant) (string, error) { return calKey, nil }, nil, nil)
	st.Deps = d
	st.Processor = app.NewProcessor(d, queue.ProcessorOptions{Visibility: lq, DeadLetter: lq})

	runCtx, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	if !o.NoWorker {
		go func() { _ = lq.Run(runCtx, st.Processor) }()
	}
	st.server = &http.Server{Handler: apigw.NewHTTPHandler(app.Routes(d)), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := st.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("dev gateway stopped", "error", err.Error())
		}
	}()
	ok = true
	return st, nil
}

func openWithRetry(ctx context.Context, dsn string) (sqlDB *sql.DB, err error) {
	for i := 0; i < 20; i++ {
		sqlDB, err = mysql.Open(ctx, dsn, mysql.Options{MaxOpenConns: 20, MaxIdleConns: 20})
		if err == nil {
			return sqlDB, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// Drain runs queued jobs until none is left (simulator, tests).
func (s *Stack) Drain(ctx context.Context) error { return s.Queue.Drain(ctx, s.Processor) }

// Close stops the server and everything it started, in reverse order.
func (s *Stack) Close() {
	if s.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = s.server.Shutdown(ctx)
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}
