package redis

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/booking"
)

// mapErr gives a Redis failure its kind. Anything that means "Redis is not
// answering right now" is Transient, so callers degrade; a reply Redis
// gives on purpose (WRONGTYPE, NOAUTH, a script error) is a bug or a
// misconfiguration and stays Internal. redis.Nil must be handled by the
// caller before: it is a miss, not an error.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if transient(err) {
		return booking.Wrap(booking.KindTransient, op, err, "redis unavailable")
	}
	return booking.Wrap(booking.KindInternal, op, err, "redis error")
}

// Server replies that mean "try again later".
var transientReplies = []string{"LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "BUSY"}

func transient(err error) bool {
	var netErr net.Error
	var redisErr goredis.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, goredis.ErrClosed), errors.Is(err, goredis.ErrPoolTimeout), errors.Is(err, goredis.ErrPoolExhausted):
		return true
	case errors.As(err, &netErr):
		return true
	case errors.As(err, &redisErr):
		msg := redisErr.Error()
		for _, p := range transientReplies {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	// go-redis reports some connection failures as plain errors.
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "i/o timeout") ||
		strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe")
}
