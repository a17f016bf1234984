package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	rdsauth "github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	_ "time/tzdata" // branch time zones must load on Lambda's minimal image

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/catalog"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
)

// Run is the whole body of a Lambda main: it reads the configuration
// (no network during init: cold starts stay small), and builds the
// dependencies on the first invocation, retrying on the next one if a
// dependency was unreachable. It never returns.
func Run(name string) {
	fn, ok := catalog.Lookup(name)
	if !ok {
		fatal(fmt.Errorf("function %q is not in the catalogue", name))
	}
	cfg, err := platform.LoadConfig(os.Getenv)
	if err == nil {
		err = cfg.RequireNeeds(fn.Needs...)
	}
	if err != nil {
		fatal(err)
	}
	logger := platform.NewLogger(os.Stdout, cfg.LogLevel, slog.String("function", name), slog.String("version", cfg.Version))
	cfg.Flags.LogFlags(logger)
	var metrics platform.Metrics = platform.NopMetrics{}
	if cfg.Flags.Metrics {
		metrics = platform.NewMetrics(os.Stdout, platform.Namespace, map[string]string{"Function": name})
	}
	lazy := &lazyDeps{build: func(ctx context.Context) (*Deps, error) {
		return FromEnv(ctx, cfg, fn, logger, metrics, newTracer())
	}}
	switch fn.Trigger {
	case catalog.TriggerHTTP:
		var once sync.Once
		var handler apigw.Handler
		bare := &Deps{Config: cfg, Flags: cfg.Flags, Logger: logger, Metrics: metrics, Clock: booking.SystemClock}
		h := func(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
			if name == "health" && (r.Path == "/liveness" || r.Path == "/ping") {
				return HealthHandler(bare)(ctx, r) // alive needs no dependency
			}
			d, err := lazy.get(ctx)
			if err != nil {
				return nil, err
			}
			once.Do(func() { handler = HTTPHandlers(d)[name] })
			if handler == nil {
				return nil, booking.Errorf(booking.KindInternal, "app.Run", "function %s has no handler", name)
			}
			return handler(ctx, r)
		}
		wrap := lambdaWrappers[name]
		if wrap == nil {
			wrap = func(_ string, h apigw.LambdaHandler) apigw.LambdaHandler { return h }
		}
		lambda.Start(wrap(cfg.Stage, apigw.Wrap(name, h, apigw.Options{Logger: logger, Metrics: metrics, Tracer: newTracer(), DetailedLogging: cfg.Flags.DetailedLogging, MaxBody: maxBody[name]})))
	case catalog.TriggerSQS:
		lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			d, err := lazy.get(ctx)
			if err != nil {
				return failAll(ev), nil // every record comes back after its visibility timeout
			}
			opts := queue.ProcessorOptions{}
			if sqsq, ok := d.Publisher.(*queue.SQS); ok {
				opts.Visibility = sqsq
			}
			if cfg.DLQURL != "" {
				if dlq, err := newSQS(ctx, cfg, cfg.DLQURL, d.Clock); err == nil {
					opts.DeadLetter = dlq
				}
			}
			return NewProcessor(d, opts).Handle(ctx, ev)
		})
	default:
		run, ok := invocations[name]
		if !ok {
			fatal(fmt.Errorf("function %s (%s) has no handler", name, fn.Trigger))
		}
		lambda.Start(func(ctx context.Context, raw json.RawMessage) (any, error) {
			d, err := lazy.get(ctx)
			if err != nil {
				return nil, err
			}
			return run(ctx, d, raw)
		})
	}
}

// RegisterInvocation adds the handler of a schedule, deploy-time or
// CodeDeploy function; its package's init calls it.
func RegisterInvocation(name string, f func(ctx context.Context, d *Deps, event json.RawMessage) (any, error)) {
	invocations[name] = f
}

// invocations are handlers of schedule, deploy-time and CodeDeploy
// functions, registered by the files that implement them.
var invocations = map[string]func(ctx context.Context, d *Deps, event json.RawMessage) (any, error){}

func failAll(ev events.SQSEvent) events.SQSEventResponse {
	var r events.SQSEventResponse
	for _, m := range ev.Records {
		r.BatchItemFailures = append(r.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
	}
	return r
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"startup failed","error":%q}`+"\n", err.Error())
	os.Exit(1)
}

type lazyDeps struct {
	mu    sync.Mutex
	d     *Deps
	build func(ctx context.Context) (*Deps, error)
}

func (l *lazyDeps) get(ctx context.Context) (*Deps, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.d != nil {
		return l.d, nil
	}
	d, err := l.build(ctx)
	if err != nil {
		return nil, err
	}
	l.d = d
	return d, nil
}

// FromEnv builds the dependencies of fn on AWS: secrets from Secrets
// Manager (cached), MySQL through RDS Proxy, ElastiCache Redis, SQS and
// Cal.com — only what the catalogue says fn needs.
func FromEnv(ctx context.Context, cfg platform.Config, fn catalog.Function, logger *slog.Logger, metrics platform.Metrics, tracer platform.Tracer) (*Deps, error) {
	secrets, err := platform.NewAWSSecrets(ctx, cfg.Region, platform.CacheOptions{})
	if err != nil {
		return nil, err
	}
	d := &Deps{Config: cfg, Flags: cfg.Flags, Logger: logger, Metrics: metrics, Tracer: tracer, Clock: booking.SystemClock,
		InboundFallback: cfg.InboundFallback, AdminToken: cfg.AdminToken,
		Keys: redis.Keys{Prefix: or(os.Getenv("REDIS_KEY_PREFIX"), redis.DefaultPrefix)}}
	get := func(id string) (string, error) { return secrets.Get(ctx, id) }
	if fn.NeedsAny(catalog.NeedMySQL) {
		var keys *pii.Keyring
		if fn.NeedsAny(catalog.NeedPIIKeys) {
			raw, err := get(cfg.PIIKeysSecret)
			if err != nil {
				return nil, err
			}
			if keys, err = pii.ParseKeyring([]byte(raw)); err != nil {
				return nil, err
			}
			if keys.IsDev() && cfg.Stage != platform.StageDev {
				return nil, booking.Errorf(booking.KindInternal, "app.FromEnv", "the dev-only PII keys must not be used outside dev")
			}
		}
		var db *sql.DB
		if os.Getenv("DB_IAM_AUTH") == "true" {
			// RDS Proxy with IAM auth: the function's role is the credential.
			awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
			if err != nil {
				return nil, booking.Wrap(booking.KindInternal, "app.FromEnv", err, "AWS configuration")
			}
			db, err = mysql.OpenIAM(ctx, cfg.MySQLDSN, mysql.Options{}, func(ctx context.Context, endpoint, user string) (string, error) {
				return rdsauth.BuildAuthToken(ctx, endpoint, cfg.Region, user, awsCfg.Credentials)
			})
			if err != nil {
				return nil, err
			}
		} else if db, err = mysql.Open(ctx, cfg.MySQLDSN, mysql.Options{}); err != nil {
			return nil, err
		}
		d.Store = mysql.NewStore(db, keys, d.Clock)
	}
	if cfg.RedisAddr != "" && fn.NeedsAny(catalog.NeedRedis) {
		password := cfg.RedisPassword
		if id := os.Getenv("REDIS_AUTH_SECRET_ID"); id != "" {
			// The AUTH token lives in Secrets Manager, never in the environment.
			if password, err = get(id); err != nil {
				return nil, err
			}
		}
		d.Redis = redis.NewClient(redis.Options{Addr: cfg.RedisAddr, Password: password, TLS: cfg.RedisTLS})
	}
	if cfg.QueueURL != "" {
		q, err := newSQS(ctx, cfg, cfg.QueueURL, d.Clock)
		if err != nil {
			return nil, err
		}
		d.Publisher, d.QueueDepth = q, q
	}
	if fn.NeedsAny(catalog.NeedCalcom) {
		d.UseCalcom(cfg.CalcomBaseURL, func(ctx context.Context, t booking.Tenant) (string, error) {
			return secrets.Get(ctx, or(t.CalcomAPIKeyRef, cfg.CalcomAPIKeySecret))
		}, platform.InstrumentHTTPClient(tracer, nil), CalcomObserver(metrics))
	}
	// Read at start so a missing or malformed secret fails the first
	// request loudly; afterwards the checks read them per request (cached).
	current := func(id string) (string, error) {
		keys, err := d.rotatingSecret(ctx, id, "")
		if err != nil {
			return "", err
		}
		return keys[0], nil
	}
	d.Secrets = secrets
	if fn.NeedsAny(catalog.NeedRetellKey) {
		if d.RetellAPIKey, err = current(cfg.RetellAPIKeySecret); err != nil {
			return nil, err
		}
	}
	if fn.NeedsAny(catalog.NeedCalcomHook) {
		if d.CalcomWebhookSecret, err = current(cfg.CalcomWebhookSecret); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func or(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func newSQS(ctx context.Context, cfg platform.Config, url string, clock booking.Clock) (*queue.SQS, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
	if err != nil {
		return nil, booking.Wrap(booking.KindInternal, "app.newSQS", err, "AWS configuration")
	}
	return queue.NewSQS(sqs.NewFromConfig(awsCfg), url, clock), nil
}

// lambdaWrappers wrap a function's Lambda handler outside apigw.Wrap (the
// privacy function takes the IAM caller identity from the raw event).
var lambdaWrappers = map[string]func(stage string, h apigw.LambdaHandler) apigw.LambdaHandler{}
