// Package calcomtest is an in-process behavioural sandbox of the part of
// Cal.com API v2 the gateway uses: GET /v2/slots, POST/GET /v2/bookings,
// GET /v2/bookings/{uid}, POST …/cancel and …/reschedule. It keeps real
// state (event types with schedules, bookings, hosts), so a booked slot
// disappears, a taken start is refused like Cal.com refuses it, cancel
// frees it and reschedule creates a new uid. It checks cal-api-version and
// Authorization, answers errors in Cal.com's envelope, can rate-limit like
// Cal.com's throttler, inject latency and failures (including "booked, but
// the answer never arrived"), and posts signed webhooks.
//
// Tests in ../ validate its answers against the official OpenAPI spec, so
// it cannot silently drift from the real API.
package calcomtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
)

// DefaultAPIKey is accepted when Options.APIKeys is empty.
const DefaultAPIKey = "cal_test_sandbox_key"

// Routes, as counted by Requests and addressed by fault injection.
const (
	RouteSlots      = "GET /v2/slots"
	RouteCreate     = "POST /v2/bookings"
	RouteList       = "GET /v2/bookings"
	RouteGet        = "GET /v2/bookings/{uid}"
	RouteCancel     = "POST /v2/bookings/{uid}/cancel"
	RouteReschedule = "POST /v2/bookings/{uid}/reschedule"
	RouteUnknown    = "unknown"
)

// API versions the routes are served under (anything else falls back to
// Cal.com's 2024-04-15 contract, which the sandbox answers with an error).
var routeVersion = map[string]string{
	RouteSlots: "2024-09-04", RouteCreate: "2024-08-13", RouteList: "2024-08-13",
	RouteGet: "2024-08-13", RouteCancel: "2024-08-13", RouteReschedule: "2024-08-13",
}

// Options configure a Sandbox. The zero value works.
type Options struct {
	// APIKeys accepted as "Authorization: Bearer <key>"; empty = DefaultAPIKey.
	APIKeys []string
	// AllowAnonymous mimics Cal.com's OptionalApiAuthGuard: requests without
	// Authorization pass on slots, create, get, cancel and reschedule. By
	// default the sandbox is stricter and answers 401, so a client that
	// forgets the key is caught.
	AllowAnonymous bool
	Clock          booking.Clock // "now" for slots, notice and rate limits; default system clock
	Latency        time.Duration // added to every request
	// RateLimitPerMinute > 0 enables the throttler: that many requests per
	// key (or per client address when anonymous) per 60 s window, then 429
	// ThrottlerException and a 60 s block. Cal.com's default is 120.
	RateLimitPerMinute int
	// WebhookURL and WebhookSecret enable signed webhooks after each change.
	WebhookURL    string
	WebhookSecret string
	WebhookClient *http.Client
}

// EventType is a bookable Cal.com event type with its host's weekly schedule.
type EventType struct {
	ID                   int64
	Slug                 string // default "event-<id>"
	Title                string // default "Termin"
	LengthMinutes        int
	TimeZone             string               // schedule zone, IANA; default UTC
	Schedule             booking.OpeningHours // weekday → [start, end) minutes after local midnight
	SlotIntervalMinutes  int                  // default LengthMinutes
	MinimumNoticeMinutes int
	// HostID: event types with the same non-zero host block each other
	// (one person cannot be in two appointments). Zero = a host of its own.
	HostID   int64
	HostName string
}

func (e EventType) hostKey() int64 {
	if e.HostID != 0 {
		return e.HostID
	}
	return -e.ID
}

// Booking is one booking held by the sandbox.
type Booking struct {
	ID                 int64
	UID                string
	EventTypeID        int64
	Status             string // calcom.StatusAccepted, calcom.StatusCancelled
	Start, End         time.Time
	Attendee           calcom.Attendee
	Metadata           map[string]string
	RescheduledFromUID string
	RescheduledToUID   string
	CancellationReason string
	ReschedulingReason string
	CreatedAt          time.Time
	UpdatedAt          time.Time

	hostKey int64
}

// Active reports whether the booking blocks its time.
func (b Booking) Active() bool {
	return b.Status == calcom.StatusAccepted || b.Status == calcom.StatusPending
}

// Fault is an injected failure for the next request(s) to a route.
type Fault struct {
	// Status answers with this HTTP status and Cal.com's error envelope
	// (0 with AfterCommit: send the real answer, only later or never).
	Status int
	// AfterCommit runs the operation first (the booking is really
	// created/cancelled/moved) and only then fails: the unknown-outcome case.
	AfterCommit bool
	// Delay holds the answer back (until the client gives up, typically).
	Delay time.Duration
	// DropConnection closes the connection instead of answering.
	DropConnection bool
	// Times the fault applies (default 1).
	Times int
}

// Sandbox is a running fake Cal.com. Close it when done.
type Sandbox struct {
	srv  *httptest.Server
	opts Options
	keys map[string]bool
	done chan struct{}

	mu         sync.Mutex
	clock      booking.Clock
	latency    time.Duration
	eventTypes map[int64]EventType
	bookings   []*Booking
	byUID      map[string]*Booking
	nextID     int64
	requests   map[string]int
	faults     map[string][]*Fault
	windows    map[string]*rateWindow

	hooks *webhookSender
}

// New starts a sandbox on a loopback port.
func New(opts Options) *Sandbox {
	s := &Sandbox{
		opts:       opts,
		keys:       map[string]bool{},
		done:       make(chan struct{}),
		clock:      opts.Clock,
		latency:    opts.Latency,
		eventTypes: map[int64]EventType{},
		byUID:      map[string]*Booking{},
		nextID:     1000,
		requests:   map[string]int{},
		faults:     map[string][]*Fault{},
		windows:    map[string]*rateWindow{},
	}
	if s.clock == nil {
		s.clock = booking.SystemClock
	}
	keys := opts.APIKeys
	if len(keys) == 0 {
		keys = []string{DefaultAPIKey}
	}
	for _, k := range keys {
		s.keys[k] = true
	}
	s.hooks = newWebhookSender(opts.WebhookURL, opts.WebhookSecret, opts.WebhookClient)
	s.srv = httptest.NewServer(s)
	return s
}

// URL is the base URL to give the client (no trailing slash, no /v2).
func (s *Sandbox) URL() string { return s.srv.URL }

// Close stops the server and the webhook sender; held-back answers are released.
func (s *Sandbox) Close() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.hooks.close()
}

// SetNow replaces the sandbox clock.
func (s *Sandbox) SetNow(c booking.Clock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = c
}

// SetLatency changes the latency added to every request.
func (s *Sandbox) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

func (s *Sandbox) now() time.Time { return s.clock.Now() }

// AddEventType registers (or replaces) an event type.
func (s *Sandbox) AddEventType(et EventType) error {
	if et.ID <= 0 || et.LengthMinutes <= 0 {
		return fmt.Errorf("calcomtest: event type needs a positive id and length")
	}
	if et.TimeZone == "" {
		et.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(et.TimeZone); err != nil {
		return fmt.Errorf("calcomtest: event type %d: %w", et.ID, err)
	}
	if et.SlotIntervalMinutes <= 0 {
		et.SlotIntervalMinutes = et.LengthMinutes
	}
	if et.Slug == "" {
		et.Slug = fmt.Sprintf("event-%d", et.ID)
	}
	if et.Title == "" {
		et.Title = "Termin"
	}
	if et.HostName == "" {
		et.HostName = "Sandbox Host"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventTypes[et.ID] = et
	return nil
}

// AddBooking stores an existing booking (e.g. one made online before the
// test). UID, ID, End, Status and timestamps are filled in when empty. It
// does not check availability. With notify, a BOOKING_CREATED webhook is
// sent as if someone had booked on the Cal.com page.
func (s *Sandbox) AddBooking(b Booking, notify bool) (Booking, error) {
	s.mu.Lock()
	et, ok := s.eventTypes[b.EventTypeID]
	if !ok {
		s.mu.Unlock()
		return Booking{}, fmt.Errorf("calcomtest: unknown event type %d", b.EventTypeID)
	}
	if b.UID == "" {
		b.UID = newUID()
	}
	if _, dup := s.byUID[b.UID]; dup {
		s.mu.Unlock()
		return Booking{}, fmt.Errorf("calcomtest: duplicate uid")
	}
	if b.End.IsZero() {
		b.End = b.Start.Add(time.Duration(et.LengthMinutes) * time.Minute)
	}
	if b.Status == "" {
		b.Status = calcom.StatusAccepted
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = s.now()
	}
	if b.UpdatedAt.IsZero() {
		b.UpdatedAt = b.CreatedAt
	}
	if b.Attendee.TimeZone == "" {
		b.Attendee.TimeZone = et.TimeZone
	}
	b.Start, b.End = b.Start.UTC(), b.End.UTC()
	stored := s.store(b, et)
	out := *stored
	if notify {
		s.notify(calcom.TriggerBookingCreated, stored, et, nil)
	}
	s.mu.Unlock()
	return out, nil
}

// store appends b; the caller holds s.mu.
func (s *Sandbox) store(b Booking, et EventType) *Booking {
	if b.ID == 0 {
		s.nextID++
		b.ID = s.nextID
	}
	b.hostKey = et.hostKey()
	p := &b
	s.bookings = append(s.bookings, p)
	s.byUID[p.UID] = p
	return p
}

// Bookings returns a copy of every booking, in creation order.
func (s *Sandbox) Bookings() []Booking {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Booking, len(s.bookings))
	for i, b := range s.bookings {
		out[i] = *b
	}
	return out
}

// Booking returns one booking by uid.
func (s *Sandbox) Booking(uid string) (Booking, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byUID[uid]
	if !ok {
		return Booking{}, false
	}
	return *b, true
}

// Requests returns how many requests arrived per route (all of them,
// rejected ones included).
func (s *Sandbox) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

// InjectFault queues a fault for the next request(s) to route.
func (s *Sandbox) InjectFault(route string, f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], &f)
}

// FailNext makes the next n requests to route answer status without
// doing anything.
func (s *Sandbox) FailNext(route string, n, status int) {
	s.InjectFault(route, Fault{Status: status, Times: n})
}

// TimeoutAfterCreate makes the next create really book and then hold the
// answer back for delay (longer than the client's timeout): the client
// sees a timeout although the booking exists.
func (s *Sandbox) TimeoutAfterCreate(delay time.Duration) {
	s.InjectFault(RouteCreate, Fault{AfterCommit: true, Delay: delay})
}

func (s *Sandbox) takeFault(route string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[route]
	if len(q) == 0 {
		return nil
	}
	f := *q[0]
	q[0].Times--
	if q[0].Times <= 0 {
		s.faults[route] = q[1:]
	}
	return &f
}

// --- HTTP ---

type reply struct {
	status int
	body   any
	header http.Header
}

func errReply(status int, code, message string) reply {
	return reply{status: status, body: errorBody{Code: code, Message: message}}
}

type errorBody struct {
	Code    string
	Message string
	Details any
}

var statusCodes = map[int]string{
	400: "BadRequestException", 401: "UnauthorizedException", 403: "ForbiddenException",
	404: "NotFoundException", 408: "RequestTimeoutException", 409: "ConflictException",
	422: "UnprocessableEntityException", 429: "ThrottlerException", 500: "InternalServerErrorException",
	502: "BadGatewayException", 503: "ServiceUnavailableException", 504: "GatewayTimeoutException",
}

func matchRoute(method, path string) (route, uid string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case method == http.MethodGet && path == "/v2/slots":
		return RouteSlots, ""
	case path == "/v2/bookings" && method == http.MethodPost:
		return RouteCreate, ""
	case path == "/v2/bookings" && method == http.MethodGet:
		return RouteList, ""
	case len(parts) == 3 && parts[0] == "v2" && parts[1] == "bookings" && method == http.MethodGet:
		return RouteGet, parts[2]
	case len(parts) == 4 && parts[0] == "v2" && parts[1] == "bookings" && parts[3] == "cancel" && method == http.MethodPost:
		return RouteCancel, parts[2]
	case len(parts) == 4 && parts[0] == "v2" && parts[1] == "bookings" && parts[3] == "reschedule" && method == http.MethodPost:
		return RouteReschedule, parts[2]
	}
	return RouteUnknown, ""
}

// ServeHTTP implements the API.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, uid := matchRoute(r.Method, r.URL.Path)
	s.mu.Lock()
	s.requests[route]++
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 && !s.wait(r.Context(), latency) {
		return
	}
	if route == RouteUnknown {
		s.write(w, r, errReply(404, "NotFoundException", fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path)))
		return
	}
	rl, limited := s.throttle(r)
	if limited {
		s.write(w, r, rl)
		return
	}
	for k, vs := range rl.header { // Cal.com reports the budget on every answer
		w.Header()[k] = vs
	}
	if rep, ok := s.authorize(r, route); !ok {
		s.write(w, r, rep)
		return
	}
	if v := r.Header.Get("cal-api-version"); v != routeVersion[route] {
		// Cal.com routes a missing or unknown version to its 2024-04-15
		// controllers, whose inputs differ; the request fails validation
		// there (or, worse, succeeds with another meaning). The sandbox
		// always refuses, so a client that forgets the header is caught.
		s.write(w, r, errReply(400, "BadRequestException", fmt.Sprintf(
			"cal-api-version %q is not %s: Cal.com would serve this request with the 2024-04-15 contract", v, routeVersion[route])))
		return
	}
	fault := s.takeFault(route)
	if fault != nil && !fault.AfterCommit {
		if fault.Status != 0 || fault.DropConnection {
			s.applyFault(w, r, fault, nil)
			return
		}
		// A pure delay: hold the request back, then serve it normally.
		if !s.wait(r.Context(), fault.Delay) {
			return
		}
		fault = nil
	}
	var rep reply
	switch route {
	case RouteSlots:
		rep = s.slots(r)
	case RouteCreate:
		rep = s.create(r)
	case RouteList:
		rep = s.list(r)
	case RouteGet:
		rep = s.get(uid)
	case RouteCancel:
		rep = s.cancel(r, uid)
	case RouteReschedule:
		rep = s.reschedule(r, uid)
	}
	if fault != nil {
		s.applyFault(w, r, fault, &rep)
		return
	}
	s.write(w, r, rep)
}

func (s *Sandbox) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *Sandbox) applyFault(w http.ResponseWriter, r *http.Request, f *Fault, done *reply) {
	if f.Delay > 0 && !s.wait(r.Context(), f.Delay) {
		return
	}
	if f.DropConnection {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // aborts the response without an answer
	}
	if f.Status != 0 {
		msg := http.StatusText(f.Status)
		if f.Status == 429 {
			msg = "Too many requests. Please try again later."
		}
		code := statusCodes[f.Status]
		if code == "" {
			code = "HttpException"
		}
		rep := errReply(f.Status, code, msg)
		if f.Status == 429 {
			rep.header = rateHeaders(120, 0, 60)
		}
		s.write(w, r, rep)
		return
	}
	if done != nil {
		s.write(w, r, *done)
	}
}

func (s *Sandbox) authorize(r *http.Request, route string) (reply, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if s.opts.AllowAnonymous && route != RouteList {
			return reply{}, true
		}
		return errReply(401, "UnauthorizedException", "No Authorization header provided"), false
	}
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || !s.keys[strings.TrimSpace(key)] {
		return errReply(401, "UnauthorizedException", "ApiAuthStrategy - api key - Invalid API Key"), false
	}
	return reply{}, true
}

// rateWindow is one key's throttler state (fixed 60 s window, then a 60 s
// block once exceeded, like Cal.com's ThrottlerGuard).
type rateWindow struct {
	start        time.Time
	count        int
	blockedUntil time.Time
}

func rateHeaders(limit, remaining, resetSeconds int) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit-Default", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining-Default", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset-Default", strconv.Itoa(resetSeconds))
	return h
}

func (s *Sandbox) throttle(r *http.Request) (reply, bool) {
	limit := s.opts.RateLimitPerMinute
	if limit <= 0 {
		return reply{}, false
	}
	tracker := r.Header.Get("Authorization")
	if tracker == "" {
		tracker = "ip:" + strings.Split(r.RemoteAddr, ":")[0]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	win := s.windows[tracker]
	if win == nil || (now.Sub(win.start) >= time.Minute && !now.Before(win.blockedUntil)) {
		win = &rateWindow{start: now}
		s.windows[tracker] = win
	}
	if now.Before(win.blockedUntil) {
		rep := errReply(429, "ThrottlerException", "Too many requests. Please try again later.")
		rep.header = rateHeaders(limit, 0, ceilSeconds(win.blockedUntil.Sub(now)))
		return rep, true
	}
	win.count++
	if win.count > limit {
		win.blockedUntil = now.Add(time.Minute)
		rep := errReply(429, "ThrottlerException", "Too many requests. Please try again later.")
		rep.header = rateHeaders(limit, 0, 60)
		return rep, true
	}
	return reply{header: rateHeaders(limit, limit-win.count, ceilSeconds(win.start.Add(time.Minute).Sub(now)))}, false
}

func ceilSeconds(d time.Duration) int {
	n := int((d + time.Second - 1) / time.Second)
	if n < 1 {
		n = 1
	}
	return n
}

func (s *Sandbox) write(w http.ResponseWriter, r *http.Request, rep reply) {
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("X-Request-Id", newUID())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	var body any
	if e, ok := rep.body.(errorBody); ok {
		errObj := map[string]any{"code": e.Code, "message": e.Message}
		if e.Details != nil {
			errObj["details"] = e.Details
		}
		body = map[string]any{"status": "error", "timestamp": s.now().UTC().Format(isoMillis), "path": r.URL.Path, "error": errObj}
	} else {
		body = rep.body
	}
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.WriteHeader(rep.status)
	w.Write(b)
}

const isoMillis = "2006-01-02T15:04:05.000Z"

var alphabet = []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

// newUID makes a 22-character base62 id like Cal.com's short uuids.
func newUID() string {
	b := make([]byte, 22)
	n := big.NewInt(int64(len(alphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// sortedBookings returns active bookings in start order; caller holds s.mu.
func (s *Sandbox) sortedBookings() []*Booking {
	out := append([]*Booking(nil), s.bookings...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}
