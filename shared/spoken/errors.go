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
