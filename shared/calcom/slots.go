package calcom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// isoUTC is how we send instants: strict ISO 8601 in UTC, as Cal.com's
// IsDateString({strict:true}) wants.
const isoUTC = "2006-01-02T15:04:05.000Z"

func formatUTC(t time.Time) string { return t.UTC().Format(isoUTC) }

// Slots returns the free starts of an event type between from and to
// (GET /v2/slots, cal-api-version 2024-09-04), sorted, in UTC. timeZone
// (IANA) is the zone Cal.com groups days by; "" means UTC.
func (c *Client) Slots(ctx context.Context, eventTypeID int64, from, to time.Time, timeZone string) ([]time.Time, error) {
	return c.slots(ctx, eventTypeID, from, to, timeZone, "")
}

// SlotsForReschedule is Slots as seen by the booking rescheduleUID: its own
// time counts as free (Cal.com's bookingUidToReschedule), so moving an
// appointment by less than its length is possible.
func (c *Client) SlotsForReschedule(ctx context.Context, eventTypeID int64, from, to time.Time, timeZone, rescheduleUID string) ([]time.Time, error) {
	return c.slots(ctx, eventTypeID, from, to, timeZone, rescheduleUID)
}

func (c *Client) slots(ctx context.Context, eventTypeID int64, from, to time.Time, timeZone, rescheduleUID string) ([]time.Time, error) {
	const op = "calcom.slots"
	if eventTypeID <= 0 {
		return nil, booking.Errorf(booking.KindInvalid, op, "event type id must be positive")
	}
	if !to.After(from) {
		return nil, booking.Errorf(booking.KindInvalid, op, "empty time range")
	}
	q := url.Values{}
	q.Set("eventTypeId", strconv.FormatInt(eventTypeID, 10))
	q.Set("start", formatUTC(from))
	q.Set("end", formatUTC(to))
	if timeZone != "" {
		if _, err := time.LoadLocation(timeZone); err != nil {
			return nil, booking.Errorf(booking.KindInvalid, op, "unknown time zone")
		}
		q.Set("timeZone", timeZone)
	}
	if rescheduleUID != "" {
		q.Set("bookingUidToReschedule", rescheduleUID)
	}
	var out slotList
	if err := c.call(ctx, EndpointSlots, "", q, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// slotList decodes the data of a slots answer.
type slotList []time.Time

func (s *slotList) decode(data json.RawMessage) error {
	v, err := ParseSlotsData(data)
	*s = v
	return err
}

// ParseSlotsData parses the data object of a GET /v2/slots answer: a map
// from local date to slots, each either {"start": …} (format=time),
// {"start": …, "end": …} (format=range, seated extras ignored) or a bare
// time string (older shape). Starts are returned sorted, deduplicated, in UTC.
func ParseSlotsData(data []byte) ([]time.Time, error) {
	// Fast path: the documented object items, decoded without custom
	// unmarshalers (which would make encoding/json scan every item twice).
	var objs map[string][]struct {
		Start string `json:"start"`
	}
	var out []time.Time
	if err := json.Unmarshal(data, &objs); err == nil {
		n := 0
		for _, items := range objs {
			n += len(items)
		}
		out = make([]time.Time, 0, n)
		for _, items := range objs {
			for _, it := range items {
				t, err := time.Parse(time.RFC3339Nano, it.Start)
				if err != nil {
					return nil, errBadSlot
				}
				out = append(out, t.UTC())
			}
		}
	} else {
		var days map[string][]slotItem
		if err := json.Unmarshal(data, &days); err != nil {
			return nil, errors.New("slots data is not a map of days to slot lists")
		}
		for _, items := range days {
			for _, it := range items {
				out = append(out, time.Time(it))
			}
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) }), nil
}

type slotItem time.Time

var errBadSlot = errors.New("slot without a valid start")

func (s *slotItem) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var raw string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &raw); err != nil {
			return errBadSlot
		}
	} else {
		var obj struct {
			Start string `json:"start"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return errBadSlot
		}
		raw = obj.Start
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return errBadSlot
	}
	*s = slotItem(t.UTC())
	return nil
}
