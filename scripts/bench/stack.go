package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
	"github.com/telefonagent/gateway/scripts/internal/devstack"
	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/booking"
)

// system is the gateway under test: the same composition as the dev
// gateway, on the real MariaDB and Redis, with the Cal.com sandbox.
type system struct {
	st       *devstack.Stack
	dsn      string // the bench database
	redis    string
	prefix   string
	metrics  *countingMetrics
	calcom   *meteredTransport
	allocs   *allocMeter
	lambda   *callsim.LambdaTransport
	http     httpTransport
	httpSrv  *httptest.Server
	routes   []apigw.Route
	apiKey   string
	to       string
	timeZone string
}

// freshDatabase drops and creates db on the server of serverDSN and
// returns a DSN for it.
func freshDatabase(ctx context.Context, serverDSN, db string) (string, error) {
	cfg, err := gomysql.ParseDSN(serverDSN)
	if err != nil {
		return "", fmt.Errorf("mysql DSN: %w", err)
	}
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", err
	}
	defer admin.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := admin.PingContext(cctx); err != nil {
		return "", fmt.Errorf("MariaDB at %s is not reachable (make services): %w", cfg.Addr, err)
	}
	for _, q := range []string{"DROP DATABASE IF EXISTS `" + db + "`",
		"CREATE DATABASE `" + db + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"} {
		if _, err := admin.ExecContext(cctx, q); err != nil {
			return "", fmt.Errorf("%s: %w", q, err)
		}
	}
	cfg.DBName = db
	cfg.ParseTime = true
	return cfg.FormatDSN(), nil
}

func startSystem(ctx context.Context, o options) (*system, error) {
	dsn, err := freshDatabase(ctx, o.mysqlDSN, o.database)
	if err != nil {
		return nil, err
	}
	prefix := "gwbench:" + callsim.RandomID(4) + ":"
	var logs io.Writer = io.Discard
	if o.logFile != "" {
		f, err := os.Create(o.logFile)
		if err != nil {
			return nil, err
		}
		logs = f // closed at exit
	}
	st, err := devstack.Start(ctx, devstack.Options{MySQLDSN: dsn, RedisAddr: o.redisAddr, RedisPrefix: prefix,
		ListenAddr: "127.0.0.1:0", LogOutput: logs})
	if err != nil {
		return nil, err
	}
	s := &system{st: st, dsn: dsn, redis: o.redisAddr, prefix: prefix, metrics: newCountingMetrics(),
		allocs: &allocMeter{}, apiKey: st.Deps.RetellAPIKey, to: st.Tenant.PhoneNumbers[0].E164,
		timeZone: st.Tenant.Branches[0].TimeZone}

	// Re-wire the in-call path with the measuring Cal.com transport and the
	// counting metrics; the logger stays the real JSON logger (its cost is
	// part of the gateway), writing to nowhere.
	d := st.Deps
	d.Metrics = s.metrics
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 256
	s.calcom = &meteredTransport{base: base}
	calKey := devstack.DefaultCalcomAPIKey
	d.UseCalcom(st.Sandbox.URL(), func(context.Context, booking.Tenant) (string, error) { return calKey, nil },
		&http.Client{Transport: s.calcom}, nil)
	s.routes = app.Routes(d)
	s.lambda = callsim.NewLambdaTransport(s.routes)
	s.lambda.Around = s.allocs.around
	samples := &httpSamples{}
	s.httpSrv = httptest.NewServer(samples.middleware(apigw.NewHTTPHandler(s.routes)))
	s.http = httpTransport{inner: callsim.HTTPTransport{BaseURL: s.httpSrv.URL, Client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 512}}}, samples: samples}
	return s, nil
}

func (s *system) transport(kind string) callsim.Transport {
	if kind == "http" {
		return s.http
	}
	return s.lambda
}

func (s *system) close() {
	if s.httpSrv != nil {
		s.httpSrv.Close()
	}
	s.st.Close()
}
