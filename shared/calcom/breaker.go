package calcom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/telefonagent/gateway/shared/booking"
)

// BreakerSettings tune the circuit breaker of one API key. Zero values take
// the defaults.
type BreakerSettings struct {
	// ConsecutiveFailures transient failures in a row open the breaker (default 5).
	ConsecutiveFailures uint32
	// OpenFor is how long calls fail fast before one probe is let through (default 30 s).
	OpenFor time.Duration
	// HalfOpenRequests probes may run while half-open (default 1).
	HalfOpenRequests uint32
	// Registry holds the breakers; nil = the process-wide registry, so every
	// client built for the same key (e.g. per Lambda invocation) shares one.
	Registry *BreakerRegistry
}

// BreakerRegistry maps (base URL, API key) to its breaker. The key itself is
// not kept, only a hash of it.
type BreakerRegistry struct {
	mu sync.Mutex
	m  map[string]*gobreaker.CircuitBreaker[any]
}

// NewBreakerRegistry returns an empty registry (tests use one each).
func NewBreakerRegistry() *BreakerRegistry {
	return &BreakerRegistry{m: map[string]*gobreaker.CircuitBreaker[any]{}}
}

var defaultRegistry = NewBreakerRegistry()

func (s BreakerSettings) breakerFor(base, key string) *gobreaker.CircuitBreaker[any] {
	reg := s.Registry
	if reg == nil {
		reg = defaultRegistry
	}
	sum := sha256.Sum256([]byte(base + "\x00" + key))
	id := hex.EncodeToString(sum[:8])
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if cb, ok := reg.m[id]; ok {
		return cb
	}
	limit := s.ConsecutiveFailures
	if limit == 0 {
		limit = 5
	}
	openFor := s.OpenFor
	if openFor <= 0 {
		openFor = 30 * time.Second
	}
	cb := gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        "calcom:" + id,
		MaxRequests: s.HalfOpenRequests,
		Timeout:     openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= limit },
		// Only an unavailable Cal.com counts against it: a rejected request
		// (invalid, not found, slot taken) proves the API is up.
		IsSuccessful: func(err error) bool { return booking.KindOf(err) != booking.KindTransient },
		// The caller giving up says nothing about Cal.com.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
	})
	reg.m[id] = cb
	return cb
}
