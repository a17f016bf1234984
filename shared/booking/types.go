package booking

import (
	"encoding/json"
	"time"
)

// Configuration entities (tenant, branch, phone number, service, staff) are
// written by `scripts/tenant apply` from a YAML file and read by everything
// else. Their IDs are the slugs of that file, unique within a tenant; the
// tenant ID is part of every key, so no lookup can cross tenants.

// Tenant is one business (an agency's customer).
type Tenant struct {
	ID        string // slug, e.g. "salon-sonnenschein"
	Name      string // spoken business name
	Locale    string // "de" (default) or "en"
	Policy    Policy // tenant-wide defaults of the policy engine
	Pricing   Pricing
	Retention Retention
	Flags     map[string]bool // per-tenant feature-flag overrides
	// CalcomAPIKeyRef names where the tenant's Cal.com API key is kept
	// (a Secrets Manager secret id or an env var name); never the key itself.
	CalcomAPIKeyRef string
}

// Branch is one location with its own phone number(s), time zone and hours.
type Branch struct {
	TenantID         string
	ID               string
	Name             string
	TimeZone         string // IANA, e.g. "Europe/Berlin"
	OpeningHours     OpeningHours
	MinNoticeMinutes int
	Policy           Policy // overrides the tenant's where set
}

// OpeningHours lists the open intervals per weekday (local time). A weekday
// without entries is closed.
type OpeningHours map[time.Weekday][]TimeRange

// TimeRange is [Start, End) in minutes after local midnight.
type TimeRange struct{ Start, End int }

// Contains reports whether the local wall-clock interval [from, from+dur)
// lies inside one range of that weekday.
func (h OpeningHours) Contains(day time.Weekday, fromMinute, durationMinutes int) bool {
	for _, r := range h[day] {
		if fromMinute >= r.Start && fromMinute+durationMinutes <= r.End {
			return true
		}
	}
	return false
}

// PhoneNumber routes a dialled number (E.164) to a branch.
type PhoneNumber struct {
	E164     string
	TenantID string
	BranchID string
	AgentID  string // the Retell agent expected on this number (cross-check)
}

// Service is something a caller can book. A composite service has segments;
// a simple one has exactly one implicit segment (its own event type).
type Service struct {
	TenantID        string
	ID              string
	BranchID        string // "" = every branch of the tenant
	Name            string
	Synonyms        []string
	Category        string
	DurationMinutes int   // total, gaps included
	EventTypeID     int64 // Cal.com event type of a simple service
	Segments        []Segment
	PriceCents      int64
	Priority        int  // lower = preferred when a request is ambiguous
	IsDefault       bool // chosen when the caller names no service
	Policy          Policy
}

// Composite reports whether the service is booked as several segments.
func (s Service) Composite() bool { return len(s.Segments) > 0 }

// Segment is one staffed part of a composite service, followed by an
// unstaffed gap (e.g. processing time of hair colour).
type Segment struct {
	Name            string
	DurationMinutes int
	EventTypeID     int64
	GapAfterMinutes int
}

// Staff is a person whose Cal.com user offers services.
type Staff struct {
	TenantID     string
	ID           string
	BranchID     string
	Name         string
	CalcomUserID int64
	ServiceIDs   []string
	Policy       Policy
}

// Policy is one level of the cancellation/reschedule rules. Nil fields
// inherit from the next level (staff → service → branch → tenant).
type Policy struct {
	CancelNoticeHours            *int
	RescheduleNoticeHours        *int
	MaxReschedulesPerAppointment *int
	MaxCancellationsPerMonth     *int
	FeeTiers                     []FeeTier // ordered by MinHoursBefore descending; empty = inherit
}

// FeeTier: a change at least MinHoursBefore hours ahead costs FeeCents.
type FeeTier struct {
	MinHoursBefore int
	FeeCents       int64
}

// Pricing is what the tenant is charged for calls.
type Pricing struct {
	PerMinuteCents          int64 // per started minute
	PerCallCents            int64
	IncludedMinutesPerMonth int
}

// Retention overrides the default retention periods (days; 0 = default).
type Retention struct {
	TranscriptDays       int
	InactiveCustomerDays int
	ReceiptDays          int
}

// Customer is a person who called or booked. Name, Phone and Email are
// personal data: adapters encrypt them at rest and loggers redact them.
type Customer struct {
	TenantID   string
	ID         int64
	Name       string
	Phone      string // E.164, "" when unknown
	Email      string
	Source     string // "phone", "calcom", ...
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// FirstName is the first word of the name, used for greetings.
func (c Customer) FirstName() string {
	for i, r := range c.Name {
		if r == ' ' {
			return c.Name[:i]
		}
	}
	return c.Name
}

// CallStatus only ever moves forward in this order.
type CallStatus string

const (
	CallRegistered CallStatus = "registered"
	CallOngoing    CallStatus = "ongoing"
	CallEnded      CallStatus = "ended"
	CallAnalyzed   CallStatus = "analyzed"
)

// Rank orders call statuses; an unknown status ranks lowest.
func (s CallStatus) Rank() int {
	switch s {
	case CallRegistered:
		return 1
	case CallOngoing:
		return 2
	case CallEnded:
		return 3
	case CallAnalyzed:
		return 4
	}
	return 0
}

// Call is one Retell phone call.
type Call struct {
	TenantID            string
	CallID              string // Retell call_id
	BranchID            string
	AgentID             string
	Direction           string
	FromNumber          string // PII
	ToNumber            string
	Status              CallStatus
	StartedAt           *time.Time
	EndedAt             *time.Time
	DurationMS          int64
	DisconnectionReason string
	Transcript          string // PII
	RecordingURL        string
	Summary             string // PII
	Sentiment           string
	CallSuccessful      *bool
	CustomAnalysis      json.RawMessage
	CustomerID          *int64
	Cost                CallCost
	DataStorageSetting  string
	Transfers           json.RawMessage
}

// CallCost is stored in integer cents with its breakdown.
type CallCost struct {
	RetellUSDCents   int64
	PlatformEURCents int64
	CustomerEURCents int64
	ExchangeRate     float64
	BilledMinutes    int
}

// AppointmentStatus values.
type AppointmentStatus string

const (
	StatusPending   AppointmentStatus = "pending"   // sent to Cal.com, outcome unknown or awaiting confirmation
	StatusConfirmed AppointmentStatus = "confirmed" // Cal.com accepted
	StatusCancelled AppointmentStatus = "cancelled"
	StatusRejected  AppointmentStatus = "rejected"
	StatusFailed    AppointmentStatus = "failed" // could not be booked; caller was not told "booked"
)

// Active reports whether the appointment still occupies its time.
func (s AppointmentStatus) Active() bool { return s == StatusPending || s == StatusConfirmed }

// Appointment is one booking, possibly made of several Cal.com bookings
// (segments of a composite service).
type Appointment struct {
	TenantID        string
	ID              int64
	BranchID        string
	ServiceID       string
	StaffID         string
	CustomerID      *int64
	CallID          string // Retell call that booked it, "" for online bookings
	CalcomUID       string // uid of the (first) Cal.com booking
	Status          AppointmentStatus
	Source          string // "phone", "calcom"
	Start           time.Time
	End             time.Time
	Notes           string // PII
	RescheduleCount int
	IdempotencyKey  string
	NeedsAttention  string // non-empty: a human must look (reason, PII-free)
	CalcomUpdatedAt *time.Time
	Segments        []AppointmentSegment
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// AppointmentSegment is one Cal.com booking of a composite appointment.
type AppointmentSegment struct {
	Index       int
	EventTypeID int64
	CalcomUID   string
	Start       time.Time
	End         time.Time
	Status      AppointmentStatus
}

// Slot is a bookable start offered by Cal.com.
type Slot struct {
	Start time.Time
}

// TenantConfig is everything a tenant file declares: what `scripts/tenant
// apply` writes and what the functions read.
type TenantConfig struct {
	Tenant       Tenant
	Branches     []Branch
	PhoneNumbers []PhoneNumber
	Services     []Service
	Staff        []Staff
}
