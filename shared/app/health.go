package app

import (
	"context"
	"net/http"
	"time"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
)

// HealthReport is the JSON body of /health and /readiness.
type HealthReport struct {
	Status    string                 `json:"status"` // ok | degraded | failing
	Checks    map[string]HealthCheck `json:"checks,omitempty"`
	Version   string                 `json:"version"`
	Timestamp string                 `json:"timestamp"`
}

// HealthCheck is one dependency's state.
type HealthCheck struct {
	Status    string `json:"status"` // ok | degraded | failing | skipped
	LatencyMS int64  `json:"latency_ms"`
	Detail    string `json:"detail,omitempty"`
}

const checkTimeout = 500 * time.Millisecond

// HealthHandler answers /liveness and /ping without touching anything, and
// /health and /readiness after checking MySQL (hard: 503 when down), Redis
// (soft: the system degrades without it) and the retry queue depth
// (degraded above the configured threshold).
func HealthHandler(d *Deps) apigw.Handler {
	return func(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
		now := time.Now()
		if d.Clock != nil {
			now = d.Clock.Now()
		}
		rep := HealthReport{Status: "ok", Version: d.Config.Version, Timestamp: now.UTC().Format(time.RFC3339)}
		if r.Path == "/liveness" || r.Path == "/ping" {
			return apigw.JSON(http.StatusOK, rep), nil
		}
		rep.Checks = map[string]HealthCheck{}
		run := func(name string, hard bool, f func(ctx context.Context) (string, error)) {
			c, cancel := withTimeout(ctx, checkTimeout)
			defer cancel()
			start := time.Now()
			detail, err := f(c)
			hc := HealthCheck{Status: "ok", LatencyMS: time.Since(start).Milliseconds(), Detail: detail}
			switch {
			case err != nil && hard:
				hc.Status, hc.Detail = "failing", booking.MessageOf(err)
				rep.Status = "failing"
			case err != nil:
				hc.Status, hc.Detail = "degraded", booking.MessageOf(err)
				if rep.Status == "ok" {
					rep.Status = "degraded"
				}
			case detail == "skipped":
				hc.Status, hc.Detail = "skipped", "not configured"
			}
			rep.Checks[name] = hc
		}
		run("mysql", true, func(ctx context.Context) (string, error) {
			if d.Store == nil {
				return "", booking.Errorf(booking.KindInternal, "health", "no database configured")
			}
			return "", d.Store.Ping(ctx)
		})
		run("redis", false, func(ctx context.Context) (string, error) {
			if d.Redis == nil {
				return "skipped", nil
			}
			if err := d.Redis.Ping(ctx).Err(); err != nil {
				return "", booking.Wrap(booking.KindTransient, "health.redis", err, "redis unreachable")
			}
			return "", nil
		})
		run("queue", false, func(ctx context.Context) (string, error) {
			if d.QueueDepth == nil {
				return "skipped", nil
			}
			n, err := d.QueueDepth.QueueDepth(ctx)
			if err != nil {
				return "", booking.Wrap(booking.KindTransient, "health.queue", err, "queue unreachable")
			}
			if limit := d.Config.QueueDegradedDepth; limit > 0 && n > limit {
				return "", booking.Errorf(booking.KindTransient, "health.queue", "retry queue depth %d above %d", n, limit)
			}
			return "", nil
		})
		status := http.StatusOK
		if rep.Status == "failing" {
			status = http.StatusServiceUnavailable
		}
		return apigw.JSON(status, rep), nil
	}
}
