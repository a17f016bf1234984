package incall

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/telefonagent/gateway/shared/booking"
)

// Budget is how long an in-call use case may wait on Cal.com in total; the
// bookkeeping after it (rows, queue) gets its own short deadline, so the
// caller hears an answer within about 2.5 s whatever happens downstream.
const (
	Budget         = 2 * time.Second
	bookkeeping    = 500 * time.Millisecond
	searchDays     = 14 // alternatives are searched this many days ahead
	maxAlternative = 3
	slotLockTTL    = 10 * time.Second
	idemTTL        = 24 * time.Hour
)

// Metrics is the small part of the metrics writer the use cases use.
type Metrics interface {
	Count(name string, n int, dims ...string)
}

type noMetrics struct{}

func (noMetrics) Count(string, int, ...string) {}

// Scheduler runs the in-call use cases.
type Scheduler struct {
	Directory    booking.Directory
	Customers    booking.Customers
	Appointments booking.Appointments
	Idempotency  booking.Idempotency
	Callbacks    booking.Callbacks
	Calendar     booking.Calendar
	Cache        booking.SlotCache // nil: no cache
	Locker       booking.Locker    // nil: no slot locks (Cal.com stays the authority)
	Queue        booking.Enqueuer
	Clock        booking.Clock
	Logger       *slog.Logger
	Metrics      Metrics
	// Feature flags (from platform.Flags, possibly overridden per tenant).
	Alternatives      bool
	CompositeServices bool
}

// scope is the resolved context of one request.
type scope struct {
	call     Call
	number   booking.PhoneNumber
	tenant   booking.Tenant
	branch   booking.Branch
	loc      *time.Location
	locale   string
	now      time.Time // the instant the caller speaks from
	services []booking.Service
	// moving maps event type → the Cal.com uid being rescheduled: slots of
	// that event type are read as that booking sees them (its own time is
	// free) and bypass the cache.
	moving map[int64]string
}

func (s *Scheduler) clock() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Scheduler) metrics() Metrics {
	if s.Metrics == nil {
		return noMetrics{}
	}
	return s.Metrics
}

// resolveScope finds tenant, branch and services from the dialled number.
// A number we do not serve is not_allowed; a store outage is a transient
// error the caller maps to an honest answer.
func (s *Scheduler) resolveScope(ctx context.Context, call Call) (*scope, *Answer, error) {
	num, tenant, branch, err := s.Directory.ResolveNumber(ctx, call.ToNumber)
	if err != nil {
		if booking.KindOf(err) == booking.KindNotFound || booking.KindOf(err) == booking.KindInvalid {
			a := fail(ReasonNotAllowed, say("de", msgNotAllowed))
			return nil, &a, nil
		}
		return nil, nil, err
	}
	if num.AgentID != "" && call.AgentID != "" && num.AgentID != call.AgentID {
		s.log().WarnContext(ctx, "agent id does not match the dialled number's agent", "tenant", tenant.ID, "call_id", call.CallID)
	}
	loc, err := time.LoadLocation(branch.TimeZone)
	if err != nil {
		return nil, nil, booking.Wrap(booking.KindInternal, "incall.scope", err, "branch time zone")
	}
	locale := tenant.Locale
	if locale != "en" {
		locale = "de"
	}
	now := s.clock()
	if call.StartMS > 0 {
		// The caller's words ("morgen") refer to the day the call started.
		now = time.UnixMilli(call.StartMS)
	}
	svcs, err := s.Directory.Services(ctx, tenant.ID, branch.ID)
	if err != nil {
		return nil, nil, err
	}
	return &scope{call: call, number: num, tenant: tenant, branch: branch, loc: loc, locale: locale, now: now, services: svcs}, nil, nil
}

// realNow is the server's clock: policies and notice are judged against
// it, while spoken dates are resolved against the call's start.
func (s *Scheduler) realNow(sc *scope) time.Time {
	n := s.clock()
	if n.Before(sc.now) {
		return sc.now
	}
	return n
}

// fold lower-cases and replaces umlauts so "Färben", "faerben" and
// "FARBEN" compare equal.
func fold(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "-", " ", "_", " ")
	s = r.Replace(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
}

// findService resolves what the caller named: id, name or synonym exactly,
// then a unique partial match. An empty name picks the default service.
func findService(svcs []booking.Service, name string) (booking.Service, bool) {
	q := fold(name)
	if q == "" {
		for _, sv := range svcs {
			if sv.IsDefault {
				return sv, true
			}
		}
		return booking.Service{}, false
	}
	for _, sv := range svcs {
		if fold(sv.ID) == q || fold(sv.Name) == q {
			return sv, true
		}
		for _, syn := range sv.Synonyms {
			if fold(syn) == q {
				return sv, true
			}
		}
	}
	var partial []booking.Service
	for _, sv := range svcs {
		names := append([]string{sv.Name}, sv.Synonyms...)
		for _, n := range names {
			fn := fold(n)
			if strings.Contains(fn, q) || strings.Contains(q, fn) {
				partial = append(partial, sv)
				break
			}
		}
	}
	if len(partial) == 0 {
		return booking.Service{}, false
	}
	sort.SliceStable(partial, func(i, j int) bool { return partial[i].Priority < partial[j].Priority })
	if len(partial) > 1 && partial[0].Priority == partial[1].Priority {
		return booking.Service{}, false // ambiguous: ask instead of guessing
	}
	return partial[0], true
}

func serviceNames(svcs []booking.Service, locale string) string {
	names := make([]string, 0, len(svcs))
	for _, sv := range svcs {
		names = append(names, sv.Name)
	}
	return joinAnd(locale, names)
}

// segmentPlan is where each Cal.com booking of a service starts relative to
// the appointment start. A simple service is one segment.
type segmentPlan struct {
	EventTypeID int64
	Offset      time.Duration
	Length      time.Duration
}

func plan(sv booking.Service) []segmentPlan {
	if !sv.Composite() {
		return []segmentPlan{{EventTypeID: sv.EventTypeID, Length: time.Duration(sv.DurationMinutes) * time.Minute}}
	}
	var out []segmentPlan
	var off time.Duration
	for _, seg := range sv.Segments {
		out = append(out, segmentPlan{EventTypeID: seg.EventTypeID, Offset: off, Length: time.Duration(seg.DurationMinutes) * time.Minute})
		off += time.Duration(seg.DurationMinutes+seg.GapAfterMinutes) * time.Minute
	}
	return out
}

func totalDuration(sv booking.Service) time.Duration {
	if sv.DurationMinutes > 0 {
		return time.Duration(sv.DurationMinutes) * time.Minute
	}
	var d time.Duration
	for _, seg := range sv.Segments {
		d += time.Duration(seg.DurationMinutes+seg.GapAfterMinutes) * time.Minute
	}
	return d
}

// idempotencyKey = hash(tenant, call, operation, target): a repeat of the
// same request by Retell or the LLM maps to the same key.
func idempotencyKey(tenantID, callID, op string, parts ...string) string {
	h := sha256.New()
	for _, p := range append([]string{tenantID, callID, op}, parts...) {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// detached returns a context for bookkeeping that must finish even when
// the caller's budget ran out.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bookkeeping)
}

// flag is a feature flag as the tenant file overrides it for this tenant
// (features: in the tenant file); def is the stage's setting.
func (s *Scheduler) flag(sc *scope, name string, def bool) bool {
	if v, ok := sc.tenant.Flags[name]; ok {
		return v
	}
	return def
}
