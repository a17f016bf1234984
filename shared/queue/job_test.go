package queue

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func TestJobRoundTrip(t *testing.T) {
	nb := t0.Add(90 * time.Second)
	j, err := NewJob(TypeCreateBooking, "salon-a", "idem-1", map[string]any{"start": "2026-11-21T10:00:00Z"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	j.Attempt, j.NotBefore = 1, &nb
	body, err := Encode(j)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != j.ID || got.Type != j.Type || got.TenantID != "salon-a" || got.IdempotencyKey != "idem-1" ||
		got.Attempt != 1 || !got.NotBefore.Equal(nb) || !got.CreatedAt.Equal(t0) || got.Version != Version {
		t.Fatalf("round trip changed the job: %+v vs %+v", got, j)
	}
	var p map[string]string
	if err := json.Unmarshal(got.Payload, &p); err != nil || p["start"] != "2026-11-21T10:00:00Z" {
		t.Fatalf("payload = %s (%v)", got.Payload, err)
	}
	if len(j.ID) != 32 {
		t.Fatalf("id %q", j.ID)
	}
	// Raw payloads travel unchanged.
	raw := json.RawMessage(`{"triggerEvent":"BOOKING_CREATED"}`)
	j2, err := NewJob(TypeCalcomEvent, "", "", raw, t0)
	if err != nil || string(j2.Payload) != string(raw) {
		t.Fatalf("raw payload %s, %v", j2.Payload, err)
	}
}

func TestDecodeToleratesUnknownFieldsWithinVersion(t *testing.T) {
	body := `{"v":1,"id":"abc","type":"retell.event","attempt":0,"created_at":"2026-11-20T09:00:00Z","added_later":true}`
	if _, err := Decode([]byte(body)); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := map[string]string{
		"not json":        `hello`,
		"array":           `[1,2]`,
		"no version":      `{"id":"a","type":"retell.event","created_at":"2026-11-20T09:00:00Z"}`,
		"version 2":       `{"v":2,"id":"a","type":"retell.event","created_at":"2026-11-20T09:00:00Z"}`,
		"version 0":       `{"v":0,"id":"a","type":"retell.event","created_at":"2026-11-20T09:00:00Z"}`,
		"no id":           `{"v":1,"type":"retell.event","created_at":"2026-11-20T09:00:00Z"}`,
		"bad id":          `{"v":1,"id":"a b","type":"retell.event","created_at":"2026-11-20T09:00:00Z"}`,
		"no type":         `{"v":1,"id":"a","created_at":"2026-11-20T09:00:00Z"}`,
		"bad type":        `{"v":1,"id":"a","type":"Retell Event","created_at":"2026-11-20T09:00:00Z"}`,
		"negative":        `{"v":1,"id":"a","type":"retell.event","attempt":-1,"created_at":"2026-11-20T09:00:00Z"}`,
		"no created_at":   `{"v":1,"id":"a","type":"retell.event"}`,
		"wrong types":     `{"v":1,"id":7,"type":"retell.event","created_at":"2026-11-20T09:00:00Z"}`,
		"long tenant":     `{"v":1,"id":"a","type":"retell.event","tenant_id":"` + strings.Repeat("t", 65) + `","created_at":"2026-11-20T09:00:00Z"}`,
		"version string":  `{"v":"1","id":"a","type":"retell.event","created_at":"2026-11-20T09:00:00Z"}`,
		"secret in value": `{"v":1,"id":"a","type":"retell.event","attempt":"+4915112345678","created_at":"2026-11-20T09:00:00Z"}`,
	}
	for name, body := range cases {
		_, err := Decode([]byte(body))
		if booking.KindOf(err) != booking.KindInvalid {
			t.Errorf("%s: kind %q (%v), want invalid", name, booking.KindOf(err), err)
		}
		if err != nil && strings.Contains(err.Error(), "4915112345678") {
			t.Errorf("%s: error quotes the body: %v", name, err)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	ok, _ := NewJob(TypePrefetch, "salon-a", "", nil, t0)
	big := ok
	big.Payload = json.RawMessage(`"` + strings.Repeat("x", MaxBodyBytes) + `"`)
	if _, err := Encode(big); booking.KindOf(err) != booking.KindTooLarge {
		t.Fatalf("oversized: %v", err)
	}
	bad := ok
	bad.Payload = json.RawMessage(`{`)
	if _, err := Encode(bad); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("invalid payload: %v", err)
	}
	noVersion := ok
	noVersion.Version = 0
	if _, err := Encode(noVersion); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("version 0: %v", err)
	}
}
