package booking

import (
	"context"
	"time"
)

// Ports: what the use cases need from the outside world. Adapters in
// sibling packages (mysql, redis, calcom, queue) implement them; tests use
// the function-field fakes in fakes.go or the real adapters.

// Directory answers configuration questions: which tenant and branch a
// dialled number belongs to, and what can be booked there.
type Directory interface {
	ResolveNumber(ctx context.Context, e164 string) (PhoneNumber, Tenant, Branch, error)
	Services(ctx context.Context, tenantID, branchID string) ([]Service, error)
}

// Customers stores callers. Phone numbers are E.164.
type Customers interface {
	FindCustomerByPhone(ctx context.Context, tenantID, e164 string) (*Customer, error) // NotFound when absent
	UpsertCustomerByPhone(ctx context.Context, tenantID, e164, name, email string) (*Customer, error)
	CreateCustomer(ctx context.Context, c Customer) (*Customer, error)
}

// Appointments stores bookings. Update owns the transaction: fn sees the
// locked row and returns the new state (or an error to abort).
type Appointments interface {
	CreateAppointment(ctx context.Context, a Appointment) (*Appointment, error)
	UpdateAppointment(ctx context.Context, tenantID string, id int64, fn func(*Appointment) (*Appointment, error)) (*Appointment, error)
	UpcomingAppointments(ctx context.Context, tenantID string, customerID int64, from time.Time, limit int) ([]Appointment, error)
	// AppointmentsBetween: every active appointment of the customer
	// starting in [from, to), earliest first.
	AppointmentsBetween(ctx context.Context, tenantID string, customerID int64, from, to time.Time) ([]Appointment, error)
	CountUpcomingAppointments(ctx context.Context, tenantID string, customerID int64, from time.Time) (int, error)
	CountCancellationsSince(ctx context.Context, tenantID string, customerID int64, since time.Time) (int, error)
	RecordChange(ctx context.Context, c AppointmentChange) error
}

// AppointmentChange is one row of the appointment audit trail. It holds no
// personal data.
type AppointmentChange struct {
	TenantID      string
	AppointmentID int64
	Action        string // booked, cancelled, rescheduled, confirmed, synced, failed
	Actor         string // call:<id>, calcom, worker, admin:<principal>
	PolicyOutcome string
	FeeCents      int64
	Before, After any
	At            time.Time
}

// IdempotencyState of a recorded operation.
type IdempotencyState string

const (
	IdemNew        IdempotencyState = "new"         // nobody did this yet; the caller now owns it
	IdemInProgress IdempotencyState = "in_progress" // someone else is doing it right now
	IdemComplete   IdempotencyState = "complete"    // done; Response is the stored answer
)

// Idempotency records operations exactly once. Begin atomically claims a
// key; Complete stores the final answer; Abandon releases a claim whose
// operation definitely had no effect, so a retry may try again.
type Idempotency interface {
	Begin(ctx context.Context, tenantID, key, operation string, ttl time.Duration) (IdempotencyState, []byte, error)
	Complete(ctx context.Context, tenantID, key string, response []byte) error
	Abandon(ctx context.Context, tenantID, key string) error
}

// Callbacks records that a human should call someone back.
type Callbacks interface {
	RecordCallback(ctx context.Context, tenantID, branchID, callID string, customerID *int64, phone, reason string) error
}

// CalendarBooking is Cal.com's view of one booking.
type CalendarBooking struct {
	UID         string
	Status      string // accepted, pending, cancelled, rejected
	Start, End  time.Time
	EventTypeID int64
	Metadata    map[string]string
}

// CreateBookingRequest is what we send to the calendar.
type CreateBookingRequest struct {
	EventTypeID int64
	Start       time.Time
	Name        string
	Email       string
	Phone       string // E.164
	TimeZone    string
	Language    string
	Metadata    map[string]string
}

// Calendar is the tenant's Cal.com. Errors carry kinds; a write whose
// outcome is unknown (timeout after sending) must be reported so that
// UnknownOutcome(err) is true.
type Calendar interface {
	Slots(ctx context.Context, tenant Tenant, eventTypeID int64, from, to time.Time, timeZone string) ([]time.Time, error)
	Create(ctx context.Context, tenant Tenant, req CreateBookingRequest) (CalendarBooking, error)
	Cancel(ctx context.Context, tenant Tenant, uid, reason string) error
	Reschedule(ctx context.Context, tenant Tenant, uid string, start time.Time, reason string) (CalendarBooking, error)
	UnknownOutcome(err error) bool
}

// RescheduleSlots is implemented by calendars that can list slots as seen
// by an existing booking being moved (its own time counts as free).
type RescheduleSlots interface {
	SlotsExcluding(ctx context.Context, tenant Tenant, eventTypeID int64, from, to time.Time, timeZone, uid string) ([]time.Time, error)
}

// SlotCache caches free slot starts per (tenant, event type, local day).
type SlotCache interface {
	Get(ctx context.Context, tenantID string, eventTypeID int64, day string) ([]time.Time, bool, error)
	Put(ctx context.Context, tenantID string, eventTypeID int64, day string, slots []time.Time) error
	Invalidate(ctx context.Context, tenantID string, eventTypeID int64, days ...string) error
}

// Locker takes short exclusive locks on a slot while it is being booked.
type Locker interface {
	Lock(ctx context.Context, tenantID string, eventTypeID int64, start time.Time, owner string, ttl time.Duration) (release func(), ok bool, err error)
}

// Enqueuer hands work to the retry worker.
type Enqueuer interface {
	Enqueue(ctx context.Context, jobType, tenantID, idempotencyKey string, payload any) error
}

// Job types run by the retry worker.
const (
	JobCreateBooking = "calcom.create_booking"
	JobCancel        = "calcom.cancel"
	JobReschedule    = "calcom.reschedule"
	JobCompensate    = "calcom.compensate"
	JobRetellEvent   = "retell.event"
	JobCalcomEvent   = "calcom.event"
	JobPrefetch      = "availability.prefetch"
)
