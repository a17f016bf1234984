package calcom

import (
	"context"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Calendar adapts the client to the domain port booking.Calendar. ClientFor
// returns the client of a tenant's Cal.com account (resolving its API key,
// e.g. from Secrets Manager, and reusing clients so breakers persist).
type Calendar struct {
	ClientFor func(ctx context.Context, t booking.Tenant) (*Client, error)
}

var _ booking.Calendar = Calendar{}

// Slots implements booking.Calendar.
func (c Calendar) Slots(ctx context.Context, t booking.Tenant, eventTypeID int64, from, to time.Time, timeZone string) ([]time.Time, error) {
	cl, err := c.ClientFor(ctx, t)
	if err != nil {
		return nil, err
	}
	return cl.Slots(ctx, eventTypeID, from, to, timeZone)
}

// Create implements booking.Calendar.
func (c Calendar) Create(ctx context.Context, t booking.Tenant, r booking.CreateBookingRequest) (booking.CalendarBooking, error) {
	cl, err := c.ClientFor(ctx, t)
	if err != nil {
		return booking.CalendarBooking{}, err
	}
	b, err := cl.CreateBooking(ctx, CreateBookingInput{EventTypeID: r.EventTypeID, Start: r.Start, Metadata: r.Metadata,
		Attendee: Attendee{Name: r.Name, Email: r.Email, PhoneNumber: r.Phone, TimeZone: r.TimeZone, Language: r.Language}})
	if err != nil {
		return booking.CalendarBooking{}, err
	}
	return b.ToCalendarBooking(), nil
}

// Cancel implements booking.Calendar. A booking that is already cancelled
// counts as done, so retried cancels are idempotent.
func (c Calendar) Cancel(ctx context.Context, t booking.Tenant, uid, reason string) error {
	cl, err := c.ClientFor(ctx, t)
	if err != nil {
		return err
	}
	if _, err := cl.CancelBooking(ctx, uid, reason); err != nil && !errorsIsAlreadyCancelled(err) {
		return err
	}
	return nil
}

// Reschedule implements booking.Calendar; the result carries the new uid.
func (c Calendar) Reschedule(ctx context.Context, t booking.Tenant, uid string, start time.Time, reason string) (booking.CalendarBooking, error) {
	cl, err := c.ClientFor(ctx, t)
	if err != nil {
		return booking.CalendarBooking{}, err
	}
	b, err := cl.RescheduleBooking(ctx, uid, start, reason)
	if err != nil {
		return booking.CalendarBooking{}, err
	}
	return b.ToCalendarBooking(), nil
}

// UnknownOutcome implements booking.Calendar.
func (Calendar) UnknownOutcome(err error) bool { return IsUnknownOutcome(err) }

// SlotsExcluding implements booking.RescheduleSlots.
func (c Calendar) SlotsExcluding(ctx context.Context, t booking.Tenant, eventTypeID int64, from, to time.Time, timeZone, uid string) ([]time.Time, error) {
	cl, err := c.ClientFor(ctx, t)
	if err != nil {
		return nil, err
	}
	return cl.SlotsForReschedule(ctx, eventTypeID, from, to, timeZone, uid)
}
