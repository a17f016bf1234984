// Command dev runs the whole gateway on http://127.0.0.1:8080: every
// catalogued HTTP function through the same API Gateway adapter and
// handlers as on Lambda, the retry worker in-process, migrations and the
// demo tenant applied at start. With no configuration it embeds MySQL,
// Redis and the Cal.com sandbox. These variables switch to real services:
// MYSQL_DSN, REDIS_ADDR, CALCOM_BASE_URL (+ CALCOM_API_KEY); also
// LISTEN_ADDR, RETELL_API_KEY, CALCOM_WEBHOOK_SECRET, TENANT_FILE, ADMIN_TOKEN.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/telefonagent/gateway/scripts/internal/devstack"
	"github.com/telefonagent/gateway/shared/catalog"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/retell"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := devstack.Options{
		MySQLDSN:      os.Getenv("MYSQL_DSN"),
		RedisAddr:     os.Getenv("REDIS_ADDR"),
		RedisPrefix:   os.Getenv("REDIS_KEY_PREFIX"),
		CalcomBaseURL: os.Getenv("CALCOM_BASE_URL"),
		CalcomAPIKey:  os.Getenv("CALCOM_API_KEY"),
		RetellAPIKey:  os.Getenv("RETELL_API_KEY"),
		WebhookSecret: os.Getenv("CALCOM_WEBHOOK_SECRET"),
		AdminToken:    os.Getenv("ADMIN_TOKEN"),
		ListenAddr:    os.Getenv("LISTEN_ADDR"),
	}
	if f := os.Getenv("TENANT_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		opts.TenantFile = b
	}
	flags, err := platform.LoadFlags(os.Getenv, platform.StageDev)
	if err != nil {
		return err
	}
	opts.Flags = &flags
	start := time.Now()
	st, err := devstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer st.Close()
	flags.LogFlags(st.Deps.Logger)

	d := st.Deps
	fmt.Printf("Telefonagent dev gateway (%s)\n", time.Since(start).Round(time.Millisecond))
	mysqlDesc, calDesc, redisDesc := "embedded (in-memory)", "sandbox "+urlOf(st), "in-process"
	if !st.Embedded {
		mysqlDesc = "MYSQL_DSN"
	}
	if st.Sandbox == nil {
		calDesc = opts.CalcomBaseURL
	}
	if opts.RedisAddr != "" {
		redisDesc = opts.RedisAddr
	}
	fmt.Printf("  MySQL: %s   Redis: %s   Cal.com: %s\n", mysqlDesc, redisDesc, calDesc)
	fmt.Printf("  Retell API key expected in X-Retell-Signature: %s\n", d.RetellAPIKey)
	fmt.Printf("  Tenant: %s (%s)\n", st.Tenant.Tenant.Name, st.Tenant.Tenant.ID)
	for _, fn := range catalog.HTTP() {
		for _, r := range fn.Routes {
			fmt.Printf("  %-6s %s%s\n", r.Method, st.URL, r.Path)
		}
	}
	body := `{"name":"check_availability","call":{"call_id":"call_dev_1","from_number":"+4915112345678","to_number":"` + firstNumber(st) + `"},"args":{"service":"Herrenhaarschnitt","date":"morgen","time":"14 Uhr"}}`
	sig := retell.Sign([]byte(body), d.RetellAPIKey, time.Now().UnixMilli())
	fmt.Printf("\nTry (signature valid for 5 minutes):\n  curl -s %s/functions/check-availability -H 'Content-Type: application/json' -H 'X-Retell-Signature: %s' -d '%s'\n\n", st.URL, sig, body)
	fmt.Printf("ready on %s\n", st.URL)
	<-ctx.Done()
	fmt.Println("shutting down")
	return nil
}

func urlOf(st *devstack.Stack) string {
	if st.Sandbox == nil {
		return ""
	}
	return st.Sandbox.URL()
}

func firstNumber(st *devstack.Stack) string {
	for _, b := range st.Tenant.Branches {
		_ = b
	}
	if len(st.Tenant.PhoneNumbers) > 0 {
		return st.Tenant.PhoneNumbers[0].E164
	}
	return "+4930123456"
}

var _ = strconv.Itoa
