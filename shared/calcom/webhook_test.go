package calcom

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/testenv"
)

const kaSecret = "whsec_test_calcom_123"

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testenv.ContractsDir(t) + "/calcom/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Known-answer vectors from NOTES.md §B3, over the exact file bytes.
func TestVerifySignatureKnownAnswers(t *testing.T) {
	vectors := []struct {
		body []byte
		sig  string
	}{
		{[]byte(`{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-03-02T14:05:58.112Z","payload":{"uid":"7Qm2VxR9tLs3Hc8Nw1ZaPk"}}`), "ca6407cb7ed4b62827bcfa1981d2c9cd0d2184f2efc2698af6574e0ac4a597c5"},
		{sample(t, "booking_created.json"), "7ccc6b83f9341b3a462bfa2cc24771d9c9ef5c2555ba9850377e1976035b5c8b"},
		{sample(t, "booking_cancelled.json"), "13f294bca22e0bd512846738eab8e72140b9c088be68658996c95f27f12974c2"},
		{sample(t, "ping.json"), "e83ed9a9100ef524d858d49c7c5146ebd0bc46f11a4751f7bd3fe1bd1a625f95"},
	}
	for i, v := range vectors {
		if got := Sign(v.body, kaSecret); got != v.sig {
			t.Errorf("vector %d: Sign = %s", i, got)
		}
		if err := VerifySignature(v.body, v.sig, kaSecret); err != nil {
			t.Errorf("vector %d: %v", i, err)
		}
		// Header case does not matter; surrounding space is tolerated.
		if err := VerifySignature(v.body, " "+strings.ToUpper(v.sig)+" ", kaSecret); err != nil {
			t.Errorf("vector %d upper-case: %v", i, err)
		}
		// One changed byte of the body (the trailing newline counts).
		tampered := append([]byte(nil), v.body...)
		tampered[len(tampered)-1] ^= 1
		if booking.KindOf(VerifySignature(tampered, v.sig, kaSecret)) != booking.KindUnauthorized {
			t.Errorf("vector %d: tampered body accepted", i)
		}
		if booking.KindOf(VerifySignature(v.body, v.sig, "whsec_other")) != booking.KindUnauthorized {
			t.Errorf("vector %d: wrong secret accepted", i)
		}
	}
}

func TestVerifySignatureRejects(t *testing.T) {
	body := sample(t, "ping.json")
	good := Sign(body, kaSecret)
	for name, h := range map[string]string{
		"missing":            "",
		"no-secret-provided": "no-secret-provided",
		"sha256= prefix":     "sha256=" + good,
		"short":              good[:63],
		"not hex":            strings.Repeat("z", 64),
		"wrong":              strings.Repeat("0", 64),
	} {
		if err := VerifySignature(body, h, kaSecret); booking.KindOf(err) != booking.KindUnauthorized {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if err := VerifySignature(body, good, ""); booking.KindOf(err) != booking.KindInternal {
		t.Errorf("empty secret must be a configuration error, got %v", err)
	}
}

// A webhook secret rotation: while both secrets are configured a delivery
// signed with either verifies; once the old one is dropped only the new one.
func TestVerifySignatureRotationWindow(t *testing.T) {
	body := sample(t, "booking_created.json")
	const newSecret = "whsec_rotated_456"
	byOld, byNew := Sign(body, kaSecret), Sign(body, newSecret)
	for name, sig := range map[string]string{"old": byOld, "new": byNew} {
		if err := VerifySignature(body, sig, newSecret, kaSecret); err != nil {
			t.Errorf("during the window, the %s secret: %v", name, err)
		}
	}
	if booking.KindOf(VerifySignature(body, Sign(body, "whsec_third"), newSecret, kaSecret)) != booking.KindUnauthorized {
		t.Error("a third secret verified during the window")
	}
	if err := VerifySignature(body, byNew, newSecret); err != nil {
		t.Errorf("after the window, the new secret: %v", err)
	}
	if booking.KindOf(VerifySignature(body, byOld, newSecret)) != booking.KindUnauthorized {
		t.Error("after the window the old secret still verifies")
	}
	if booking.KindOf(VerifySignature(body, byOld)) != booking.KindInternal || booking.KindOf(VerifySignature(body, byOld, "", "")) != booking.KindInternal {
		t.Error("no secret must be a configuration error")
	}
}

func TestParseWebhookSamples(t *testing.T) {
	ev, err := ParseWebhook(sample(t, "booking_created.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := ev.Payload
	if ev.TriggerEvent != TriggerBookingCreated || !ev.CreatedAt.Equal(time.Date(2026, 3, 2, 14, 5, 58, 112e6, time.UTC)) ||
		!ev.IsBookingLifecycle() || p.UID != "7Qm2VxR9tLs3Hc8Nw1ZaPk" || p.BookingID != 98765 || p.EventTypeID != 123 ||
		p.Status != "ACCEPTED" || p.Type != "check-up" || p.Length != 30 ||
		!p.StartTime.Equal(time.Date(2026, 3, 5, 17, 30, 0, 0, time.UTC)) || !p.EndTime.Equal(time.Date(2026, 3, 5, 18, 0, 0, 0, time.UTC)) ||
		p.Metadata["retell_call_id"] != "call_0b8f4c2a6d9e41f7a3c5e2d1b7f9a604" || p.Metadata["source"] != "retell-voice-agent" ||
		len(p.Attendees) != 1 || p.Attendees[0].PhoneNumber != "+14155550123" || p.Attendees[0].Language != "en" ||
		p.Attendees[0].TimeZone != "America/Los_Angeles" || p.OrganizerID != 42 {
		t.Fatalf("created: %+v", ev)
	}

	ev, err = ParseWebhook(sample(t, "booking_cancelled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.TriggerEvent != TriggerBookingCancelled || ev.Payload.Status != "CANCELLED" || ev.Payload.UID != "7Qm2VxR9tLs3Hc8Nw1ZaPk" ||
		ev.Payload.CancellationReason != "Caller asked to cancel by phone" || ev.Payload.Metadata != nil {
		t.Fatalf("cancelled: %+v", ev)
	}

	ev, err = ParseWebhook(sample(t, "ping.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.TriggerEvent != TriggerPing || ev.IsBookingLifecycle() || ev.Payload.UID != "" {
		t.Fatalf("ping: %+v", ev)
	}
}

func TestParseWebhookShapes(t *testing.T) {
	ok := []struct {
		name, body string
		check      func(WebhookEvent) bool
	}{
		{"reschedule with lower-case status and string ids",
			`{"triggerEvent":"BOOKING_RESCHEDULED","createdAt":"2026-03-02T14:05:58Z","payload":{"uid":"new","rescheduleUid":"old","rescheduleId":"77","bookingId":"78","eventTypeId":1001,"status":"accepted","startTime":"2026-03-05T10:00:00Z","endTime":"2026-03-05T10:30:00Z","rescheduleStartTime":"2026-03-04T10:00:00Z","metadata":{"n":5,"b":true,"o":{"x":1},"z":null},"attendees":[{"name":"A","email":"4915112345678@sms.cal.com","phoneNumber":"+4915112345678","language":"de"}],"unknownField":[1,2]}}`,
			func(e WebhookEvent) bool {
				p := e.Payload
				return p.RescheduleUID == "old" && p.RescheduleID == 77 && p.BookingID == 78 && p.Status == "ACCEPTED" &&
					p.Metadata["n"] == "5" && p.Metadata["b"] == "true" && p.Metadata["o"] == `{"x":1}` && len(p.Metadata) == 3 &&
					p.Attendees[0].Email == "" && p.Attendees[0].Language == "de" &&
					p.RescheduleStartTime.Equal(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
			}},
		{"dynamic event without event type", `{"triggerEvent":"BOOKING_REQUESTED","createdAt":"2026-03-02T14:05:58Z","payload":{"uid":"u","eventTypeId":null,"startTime":"2026-03-05T10:00:00Z","endTime":"2026-03-05T10:30:00Z","status":"PENDING"}}`,
			func(e WebhookEvent) bool { return e.Payload.EventTypeID == 0 && e.Payload.Status == "PENDING" }},
		{"flat meeting trigger is tolerated", `{"triggerEvent":"MEETING_ENDED","createdAt":"2026-03-02T14:05:58Z","payload":{"bookingId":1}}`,
			func(e WebhookEvent) bool { return !e.IsBookingLifecycle() && e.Payload.BookingID == 1 }},
	}
	for _, c := range ok {
		ev, err := ParseWebhook([]byte(c.body))
		if err != nil || !c.check(ev) {
			t.Errorf("%s: %+v %v", c.name, ev, err)
		}
	}
	bad := map[string]string{
		"not json":              `nope`,
		"array":                 `[]`,
		"no trigger":            `{"createdAt":"2026-03-02T14:05:58Z","payload":{}}`,
		"lower-case trigger":    `{"triggerEvent":"booking_created","createdAt":"2026-03-02T14:05:58Z","payload":{}}`,
		"no createdAt":          `{"triggerEvent":"PING","payload":{}}`,
		"bad createdAt":         `{"triggerEvent":"PING","createdAt":"yesterday","payload":{}}`,
		"no payload":            `{"triggerEvent":"PING","createdAt":"2026-03-02T14:05:58Z"}`,
		"payload not an object": `{"triggerEvent":"PING","createdAt":"2026-03-02T14:05:58Z","payload":"x"}`,
		"booking without uid":   `{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-03-02T14:05:58Z","payload":{"startTime":"2026-03-05T10:00:00Z","endTime":"2026-03-05T10:30:00Z"}}`,
		"booking without start": `{"triggerEvent":"BOOKING_CANCELLED","createdAt":"2026-03-02T14:05:58Z","payload":{"uid":"u","endTime":"2026-03-05T10:30:00Z"}}`,
		"ends before start":     `{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-03-02T14:05:58Z","payload":{"uid":"u","startTime":"2026-03-05T10:00:00Z","endTime":"2026-03-05T09:30:00Z"}}`,
		"reschedule no old uid": `{"triggerEvent":"BOOKING_RESCHEDULED","createdAt":"2026-03-02T14:05:58Z","payload":{"uid":"u","startTime":"2026-03-05T10:00:00Z","endTime":"2026-03-05T10:30:00Z"}}`,
		"uid wrong type":        `{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-03-02T14:05:58Z","payload":{"uid":5,"startTime":"2026-03-05T10:00:00Z","endTime":"2026-03-05T10:30:00Z"}}`,
		"fractional id":         `{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-03-02T14:05:58Z","payload":{"uid":"u","bookingId":1.5,"startTime":"2026-03-05T10:00:00Z","endTime":"2026-03-05T10:30:00Z"}}`,
	}
	for name, body := range bad {
		if _, err := ParseWebhook([]byte(body)); booking.KindOf(err) != booking.KindInvalid {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// Errors never quote the body (which holds names, emails, phone numbers).
func TestParseWebhookErrorsHaveNoPII(t *testing.T) {
	body := `{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-03-02T14:05:58Z","payload":{"uid":"u","attendees":[{"name":"Maria Rossi","email":"maria@example.com"}],"startTime":"Maria Rossi"}}`
	_, err := ParseWebhook([]byte(body))
	if err == nil || strings.Contains(err.Error(), "Maria") || strings.Contains(err.Error(), "example.com") {
		t.Fatalf("got %v", err)
	}
}

// FuzzParseWebhook: no input panics, and whatever parses satisfies the
// invariants the webhook handler relies on. Seeds: the shared samples and
// testdata/fuzz/FuzzParseWebhook.
func FuzzParseWebhook(f *testing.F) {
	for _, name := range []string{"booking_created.json", "booking_cancelled.json", "ping.json"} {
		f.Add(sample(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseWebhook(body)
		if err != nil {
			if booking.KindOf(err) != booking.KindInvalid {
				t.Fatalf("error of kind %s", booking.KindOf(err))
			}
			return
		}
		if ev.TriggerEvent == "" || ev.CreatedAt.IsZero() {
			t.Fatal("parsed without trigger or createdAt")
		}
		if ev.IsBookingLifecycle() {
			p := ev.Payload
			if p.UID == "" || p.StartTime.IsZero() || p.EndTime.IsZero() || p.EndTime.Before(p.StartTime) {
				t.Fatalf("lifecycle event without uid/times: %+v", p.LogValue())
			}
			if ev.TriggerEvent == TriggerBookingRescheduled && p.RescheduleUID == "" {
				t.Fatal("reschedule without old uid")
			}
		}
		if p := ev.Payload; p.Status != strings.ToUpper(p.Status) {
			t.Fatal("status not upper-case")
		}
	})
}
