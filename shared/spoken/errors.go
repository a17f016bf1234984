package spoken

import (
	"errors"

	"github.com/telefonagent/gateway/shared/booking"
)

// Reasons are the stable codes an answer carries when a date or time could
// not be understood. They are the Message of a KindInvalid *booking.Error.
const (
	ReasonUnclearDate = "unclear_date"
	ReasonUnclearTime = "unclear_time"
)

const op = "spoken.Resolve"

func unclearDate() error {
	return &booking.Error{Kind: booking.KindInvalid, Op: op, Message: ReasonUnclearDate}
}
func unclearTime() error {
	return &booking.Error{Kind: booking.KindInvalid, Op: op, Message: ReasonUnclearTime}
}

// noSuchDateError is unclear_date for a day the calendar does not have
// (29. Februar 2027, 31. April): the agent can say which day is missing
// and ask, instead of a bare "I did not understand".
type noSuchDateError struct {
	day Date
	err *booking.Error
}

func (e *noSuchDateError) Error() string { return e.err.Error() }
func (e *noSuchDateError) Unwrap() error { return e.err }

func noSuchDate(d Date) error {
	return &noSuchDateError{day: d, err: &booking.Error{Kind: booking.KindInvalid, Op: op, Message: ReasonUnclearDate}}
}

// NoSuchDate tells, for an unclear_date error, the day and month the caller
// named that does not exist in the year it would fall in (Year is that
// year; Day may exceed the month's length).
func NoSuchDate(err error) (Date, bool) {
	var e *noSuchDateError
	if errors.As(err, &e) {
		return e.day, true
	}
	return Date{}, false
}

// Reason returns ReasonUnclearDate or ReasonUnclearTime when err is one of
// this package's errors, "" otherwise.
func Reason(err error) string {
	var e *booking.Error
	if errors.As(err, &e) && e.Kind == booking.KindInvalid &&
		(e.Message == ReasonUnclearDate || e.Message == ReasonUnclearTime) {
		return e.Message
	}
	return ""
}
