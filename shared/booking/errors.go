// Package booking is the domain of the gateway: tenants, branches, services,
// customers, calls and appointments, and the use cases that the Lambda
// functions expose. It imports no AWS, SQL or HTTP package; adapters live in
// sibling packages and implement the ports declared here.
package booking

import (
	"errors"
	"fmt"
)

// Kind classifies every error the system can produce. The kind alone decides
// whether an operation is retried, which HTTP status a webhook answers and
// what the phone agent is told (design §8). The set is closed on purpose.
type Kind string

const (
	KindInvalid      Kind = "invalid"      // the caller, the LLM or a sender gave bad input: say so, never retry
	KindNotFound     Kind = "not_found"    // the thing asked for does not exist (in this tenant)
	KindConflict     Kind = "conflict"     // a slot is taken, a state moved on
	KindUnauthorized Kind = "unauthorized" // signature missing, stale or forged
	KindTooLarge     Kind = "too_large"    // body over the limit
	KindTransient    Kind = "transient"    // timeouts, 429, 5xx, DB/Redis/queue unavailable: retry or enqueue
	KindInternal     Kind = "internal"     // a bug: logged loudly, never retried blindly
)

// Error is the one error type that crosses package boundaries. Message is
// safe to show to an operator and never contains personal data.
type Error struct {
	Kind    Kind
	Op      string // where it happened, e.g. "calcom.CreateBooking"
	Message string // short, PII-free
	Err     error  // wrapped cause, may be nil
}

func (e *Error) Error() string {
	switch {
	case e.Op != "" && e.Err != nil:
		return fmt.Sprintf("%s: %s: %s: %v", e.Op, e.Kind, e.Message, e.Err)
	case e.Op != "":
		return fmt.Sprintf("%s: %s: %s", e.Op, e.Kind, e.Message)
	case e.Err != nil:
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error of the given kind.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a kind to a cause. Wrapping an *Error keeps its kind unless
// the cause has none.
func Wrap(kind Kind, op string, err error, message string) *Error {
	return &Error{Kind: kind, Op: op, Message: message, Err: err}
}

// KindOf returns the kind of err: the kind of the outermost *Error in its
// chain, KindInternal for any other non-nil error, "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the PII-free message of the outermost *Error, or a
// generic text for foreign errors (whose text may contain anything).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Retryable tells whether an operation that failed with err may succeed when
// tried again unchanged.
func Retryable(err error) bool { return KindOf(err) == KindTransient }
