package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
)

func health(t *testing.T, d *app.Deps, path string) (int, app.HealthReport) {
	t.Helper()
	resp, err := app.HealthHandler(d)(context.Background(), &apigw.Request{Method: "GET", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var rep app.HealthReport
	if err := json.Unmarshal(resp.Body, &rep); err != nil {
		t.Fatal(err)
	}
	return resp.Status, rep
}

func TestHealth(t *testing.T) {
	e := apptest.New(t, apptest.Options{DBName: "app_health"})
	d := e.Deps
	if st, rep := health(t, d, "/health"); st != 200 || rep.Status != "ok" || rep.Checks["mysql"].Status != "ok" || rep.Checks["redis"].Status != "ok" {
		t.Fatalf("healthy system: %d %+v", st, rep)
	}

	// Redis down: degraded, still 200 (booking works without it).
	down := *d
	down.Redis = goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond})
	if st, rep := health(t, &down, "/readiness"); st != 200 || rep.Status != "degraded" || rep.Checks["redis"].Status != "degraded" {
		t.Fatalf("redis down: %d %+v", st, rep)
	}

	// Queue deeper than the threshold: degraded.
	deep := *d
	lq := queue.NewLocalQueue(queue.LocalOptions{})
	for i := 0; i < 3; i++ {
		j, _ := queue.NewJob(booking.JobPrefetch, "t", "", nil, time.Now())
		lq.Publish(context.Background(), j)
	}
	deep.QueueDepth = lq
	deep.Config.QueueDegradedDepth = 2
	if st, rep := health(t, &deep, "/health"); st != 200 || rep.Checks["queue"].Status != "degraded" {
		t.Fatalf("deep queue: %d %+v", st, rep)
	}

	// MySQL down: 503 naming the failing check.
	dead := *d
	db, _ := sql.Open("mysql", "root@tcp(127.0.0.1:1)/x?timeout=200ms")
	dead.Store = mysql.NewStore(db, pii.DevKeyring(), d.Clock)
	if st, rep := health(t, &dead, "/health"); st != 503 || rep.Status != "failing" || rep.Checks["mysql"].Status != "failing" {
		t.Fatalf("mysql down: %d %+v", st, rep)
	}
	// Liveness never touches dependencies.
	if st, rep := health(t, &dead, "/liveness"); st != 200 || len(rep.Checks) != 0 {
		t.Fatalf("liveness: %d %+v", st, rep)
	}
}

// Losing Redis (or its data) must never lose an idempotency record: MySQL
// holds the claim, Redis only speeds up replays.
func TestIdempotencySurvivesRedisLoss(t *testing.T) {
	e := apptest.New(t, apptest.Options{DBName: "app_idem"})
	ctx := context.Background()
	idem := e.Deps.Idempotency()
	st, _, err := idem.Begin(ctx, "salon-sonnenschein", "k1", "book", time.Hour)
	if err != nil || st != booking.IdemNew {
		t.Fatalf("first Begin = %v, %v", st, err)
	}
	if err := idem.Complete(ctx, "salon-sonnenschein", "k1", []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	// Redis loses everything.
	e.Deps.Redis.FlushDB(ctx)
	st, resp, err := idem.Begin(ctx, "salon-sonnenschein", "k1", "book", time.Hour)
	if err != nil || st != booking.IdemComplete || string(resp) != `{"ok":true}` {
		t.Fatalf("after Redis loss: %v %q %v", st, resp, err)
	}
	// And with Redis unreachable altogether.
	noRedis := app.Idempotency{DB: e.Store.Idempotency(), Cache: &redis.IdempotencyCache{
		Client: goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond})}}
	st, _, err = noRedis.Begin(ctx, "salon-sonnenschein", "k1", "book", time.Hour)
	if err != nil || st != booking.IdemComplete {
		t.Fatalf("Redis unreachable: %v %v", st, err)
	}
}

// The tenant directory answers from MySQL when the Redis cache is down.
func TestDirectoryFallsBackToMySQL(t *testing.T) {
	e := apptest.New(t, apptest.Options{DBName: "app_dir"})
	d := app.CachedDirectory{Store: e.Store, Cache: &redis.TenantCache{
		Client: goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond})}}
	_, tenant, branch, err := d.ResolveNumber(context.Background(), apptest.DemoNumber)
	if err != nil || tenant.ID != "salon-sonnenschein" || branch.TimeZone != "Europe/Berlin" {
		t.Fatalf("fallback: %v %v %v", tenant.ID, branch.TimeZone, err)
	}
	_, _, _, err = e.Deps.Directory().ResolveNumber(context.Background(), "+4930999999")
	if booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("unknown number: %v", err)
	}
}
