// Package queue is the retry queue of the gateway: one versioned job
// envelope, one publisher used by every function, and the partial-batch
// processor the retry worker runs (design §8). SQS carries the jobs on AWS;
// LocalQueue gives the dev gateway and tests the same semantics in memory.
//
// A job's payload may hold personal data (a raw webhook body), so nothing in
// this package ever logs it or puts it into an error: logs name the job by
// id, type, tenant and attempt only.
package queue

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Version is the envelope version this code writes and reads. A message of
// any other version is a permanent failure: retrying cannot make it readable.
const Version = 1

// Job types. The payload of each is owned by the package that handles it.
const (
	TypeCreateBooking = "calcom.create_booking" // unknown outcome of a create: find by metadata or create
	TypeCancel        = "calcom.cancel"
	TypeReschedule    = "calcom.reschedule"
	TypeCompensate    = "calcom.compensate"     // undo the booked segments of a composite service
	TypeRetellEvent   = "retell.event"          // a Retell webhook that could not be stored inline
	TypeCalcomEvent   = "calcom.event"          // a Cal.com webhook that could not be stored inline
	TypePrefetch      = "availability.prefetch" // warm a branch's availability cache
)

// MaxBodyBytes bounds an encoded job. SQS accepts 256 KiB per message
// (attributes included); a little is kept back for the attributes.
const MaxBodyBytes = 250 * 1024

// Job is the one envelope every queued job travels in.
type Job struct {
	Version        int    `json:"v"`
	ID             string `json:"id"` // unique per job; the worker's dedupe key
	Type           string `json:"type"`
	TenantID       string `json:"tenant_id,omitempty"` // empty only when it was not known yet (raw webhook, DB down)
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Attempt counts the tries made before the job was published (an
	// in-call function that failed once publishes 1). The processor hands
	// handlers Attempt plus the number of deliveries so far.
	Attempt   int             `json:"attempt"`
	NotBefore *time.Time      `json:"not_before,omitempty"` // run no earlier than this
	Payload   json.RawMessage `json:"payload,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	typePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
)

// NewJob builds a version-1 job with a fresh random id. payload is encoded
// with encoding/json; pass a json.RawMessage to queue bytes unchanged.
func NewJob(typ, tenantID, idempotencyKey string, payload any, now time.Time) (Job, error) {
	raw, ok := payload.(json.RawMessage)
	if !ok && payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return Job{}, booking.Wrap(booking.KindInternal, "queue.NewJob", err, "payload not encodable")
		}
		raw = b
	}
	j := Job{
		Version: Version, ID: NewID(), Type: typ, TenantID: tenantID,
		IdempotencyKey: idempotencyKey, Payload: raw, CreatedAt: now.UTC(),
	}
	return j, j.Validate()
}

// NewID returns 16 random bytes, hex encoded.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// Validate checks the envelope, never the payload (its owner does that).
// Errors are KindInvalid and name the field, never its value.
func (j Job) Validate() error {
	const op = "queue.Validate"
	switch {
	case j.Version != Version:
		return booking.Errorf(booking.KindInvalid, op, "unsupported envelope version %d", j.Version)
	case !idPattern.MatchString(j.ID):
		return booking.Errorf(booking.KindInvalid, op, "job id missing or malformed")
	case !typePattern.MatchString(j.Type) || len(j.Type) > 64:
		return booking.Errorf(booking.KindInvalid, op, "job type missing or malformed")
	case len(j.TenantID) > 64:
		return booking.Errorf(booking.KindInvalid, op, "tenant id too long")
	case len(j.IdempotencyKey) > 128:
		return booking.Errorf(booking.KindInvalid, op, "idempotency key too long")
	case j.Attempt < 0:
		return booking.Errorf(booking.KindInvalid, op, "negative attempt")
	case j.CreatedAt.IsZero():
		return booking.Errorf(booking.KindInvalid, op, "created_at missing")
	case len(j.Payload) > 0 && !json.Valid(j.Payload):
		return booking.Errorf(booking.KindInvalid, op, "payload is not JSON")
	}
	return nil
}

// Encode validates j and returns the message body.
func Encode(j Job) ([]byte, error) {
	if err := j.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, booking.Wrap(booking.KindInternal, "queue.Encode", err, "job not encodable")
	}
	if len(b) > MaxBodyBytes {
		return nil, booking.Errorf(booking.KindTooLarge, "queue.Encode", "job of %d bytes over the %d byte limit", len(b), MaxBodyBytes)
	}
	return b, nil
}

// Decode parses and validates a message body. Every failure is KindInvalid:
// a body that cannot be read now will never be readable, so it must not be
// retried. Unknown fields are tolerated within a version so that a producer
// deployed before the worker may add optional fields.
func Decode(body []byte) (Job, error) {
	const op = "queue.Decode"
	var head struct {
		Version *int `json:"v"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return Job{}, booking.Errorf(booking.KindInvalid, op, "body is not a JSON object") // the cause may quote the body
	}
	if head.Version == nil {
		return Job{}, booking.Errorf(booking.KindInvalid, op, "envelope version missing")
	}
	if *head.Version != Version {
		return Job{}, booking.Errorf(booking.KindInvalid, op, "unsupported envelope version %d", *head.Version)
	}
	var j Job
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&j); err != nil {
		return Job{}, booking.Errorf(booking.KindInvalid, op, "envelope fields malformed")
	}
	if err := j.Validate(); err != nil {
		return Job{}, err
	}
	return j, nil
}
