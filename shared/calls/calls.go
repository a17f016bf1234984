// Package calls holds the Retell call lifecycle: the inbound webhook that
// routes a ringing call to its tenant and branch and recognises the caller
// (Inbound), and the call event webhooks that keep one row per call
// (Recorder), with their HTTP handlers. It depends on ports only; the
// composition root wires the MySQL store, the Redis-cached directory, the
// queue and the prefetch gate.
package calls

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/redis"
)

// Metrics is the part of platform.Metrics the use cases use.
type Metrics interface {
	Count(name string, n int, dims ...string)
}

type noMetrics struct{}

func (noMetrics) Count(string, int, ...string) {}

// Metric names of this package beyond platform's. They should be appended
// to platform.MetricDefs so alarms can be built on them.
const (
	// MetricInboundFallback counts inbound calls answered with the
	// tenant-independent fallback, by Outcome (unknown_number,
	// directory_unavailable).
	MetricInboundFallback = "InboundFallback"
	// MetricEventsDeferred counts call events put on the retry queue
	// because the database was unavailable, by EventType.
	MetricEventsDeferred = "WebhookEventsDeferred"
)

// CustomerFinder recognises callers (mysql.Store).
type CustomerFinder interface {
	FindCustomerByPhone(ctx context.Context, tenantID, e164 string) (*booking.Customer, error)
}

// CustomerUpserter creates callers on first contact (mysql.Store).
type CustomerUpserter interface {
	UpsertCustomerByPhone(ctx context.Context, tenantID, e164, name, email string) (*booking.Customer, error)
}

// UpcomingLister lists a customer's next appointments (mysql.Store).
type UpcomingLister interface {
	UpcomingAppointments(ctx context.Context, tenantID string, customerID int64, from time.Time, limit int) ([]booking.Appointment, error)
}

// CallStore keeps call rows (mysql.Store).
type CallStore interface {
	UpsertCall(ctx context.Context, c booking.Call) (booking.Call, error)
	GetCall(ctx context.Context, tenantID, callID string) (booking.Call, error)
	// MinutesUsedBefore: billed minutes of the tenant's calls that started
	// in [from, start) (ties broken by call id), callID excluded.
	MinutesUsedBefore(ctx context.Context, tenantID, callID string, from, start time.Time) (int, error)
}

// PrefetchGate returns the gate Inbound.AllowPrefetch expects: at most one
// prefetch per branch per period (redis.Gate fails closed: Redis down
// means no prefetch).
func PrefetchGate(g *redis.Gate, keys redis.Keys, per time.Duration) func(ctx context.Context, tenantID, branchID string) bool {
	return func(ctx context.Context, tenantID, branchID string) bool {
		return g.Allow(ctx, keys.PrefetchGate(tenantID, branchID), per)
	}
}

// PrefetchPeriod is how often a branch's availability is prefetched at most.
const PrefetchPeriod = time.Minute

// logger, clock and metrics defaults shared by the use cases.
func logOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func clockOr(c booking.Clock) booking.Clock {
	if c == nil {
		return booking.SystemClock
	}
	return c
}

func metricsOr(m Metrics) Metrics {
	if m == nil {
		return noMetrics{}
	}
	return m
}

// locations caches time.LoadLocation, which reads the zone database on
// every call.
var locations sync.Map // string → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

func localeOf(t booking.Tenant) string {
	if t.Locale == "en" {
		return "en"
	}
	return "de"
}

// kindAttr is the error kind as a log attribute.
func kindAttr(err error) slog.Attr { return slog.String("error_kind", string(booking.KindOf(err))) }

// errAttr is the PII-free message of err.
func errAttr(err error) slog.Attr { return slog.String("error", booking.MessageOf(err)) }

var _ Metrics = platform.NopMetrics{}
