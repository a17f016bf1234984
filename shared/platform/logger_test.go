package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/testenv"
)

// Personal data a real call carries. None of it may reach a log line.
var piiValues = []string{
	"Maria", "Schneider", "Maria Schneider", "Jürgen Weiß",
	"+4930123456", "030 123456", "0171 1234567", "01711234567", "+49 171 1234567", "+49 (0)30 123456",
	"0171/1234567", "max@example.de", "maria.schneider+salon@web.de",
	"Ich hätte gern einen Termin zum Färben am Dienstag",
}

func TestLoggerRedactsPII(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, slog.LevelDebug, slog.String("function", "book-appointment"))

	type customer struct {
		ID        string `json:"id"`
		FirstName string `json:"first_name"`
		Phone     string `json:"phone"`
		Email     string `json:"email"`
	}
	// By key, at the top level and in groups.
	log.Info("booking requested",
		slog.String("tenant", "salon-sonnenschein"),
		slog.String("customer_name", "Maria Schneider"),
		slog.String("name", "Jürgen Weiß"),
		slog.String("from_number", "+4930123456"),
		slog.String("to_number", "+49 171 1234567"),
		slog.String("email", "max@example.de"),
		slog.String("transcript", "Ich hätte gern einen Termin zum Färben am Dienstag"),
		slog.Group("call", slog.String("call_id", "call_0b8f4c2a"), slog.String("caller_phone", "0171 1234567"),
			slog.Group("analysis", slog.String("summary", "Ich hätte gern einen Termin zum Färben am Dienstag"))),
		slog.Any("customer", customer{ID: "c0", FirstName: "Maria"}), // dropped whole: the key says it is personal
		slog.Any("record", customer{ID: "c1", FirstName: "Maria", Phone: "01711234567", Email: "max@example.de"}),
	)
	// By value: in messages, unrelated keys, errors, structs, maps, slices, raw JSON.
	log.Warn("caller +4930123456 asked to be called back on 0171/1234567 or at maria.schneider+salon@web.de")
	log.With(slog.String("note_to_self", "ruf 030 123456 an")).Error("calcom failed",
		slog.Any("error", errors.New(`duplicate entry '+49 (0)30 123456' for key 'phone'`)),
		slog.Any("detail", map[string]any{"attendee": map[string]any{"name": "Maria Schneider"}, "list": []string{"max@example.de"}}),
		slog.Any("body", json.RawMessage(`{"args":{"customer_name":"Maria"},"call":{"from_number":"+4930123456"}}`)),
		slog.Any("raw", []byte("call me: 01711234567")),
		slog.Int64("phone", 4930123456),
	)
	log.WithGroup("customer").Info("updated", slog.String("x", "Maria Schneider"))

	out := buf.String()
	for _, v := range piiValues {
		if strings.Contains(out, v) {
			t.Errorf("log contains %q", v)
		}
	}
	for _, digits := range []string{"4930123456", "1711234567", "123456"} {
		if strings.Contains(strings.NewReplacer(" ", "", "-", "", "/", "", "(", "", ")", "").Replace(out), digits) {
			t.Errorf("log contains the digits %s", digits)
		}
	}
	// What operators need is still there.
	for _, keep := range []string{`"tenant":"salon-sonnenschein"`, `"call_id":"call_0b8f4c2a"`, `"function":"book-appointment"`,
		`"from_number":"+49…56"`, `"id":"c1"`, "calcom failed", Redacted, RedactedEmail} {
		if !strings.Contains(out, keep) {
			t.Errorf("log lost %s", keep)
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("line %d is not JSON: %s", i, line)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// A real Retell custom-function body (from the shared contracts), logged
// whole, loses every piece of personal data it holds.
func TestLoggerRedactsRetellSample(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(testenv.ContractsDir(t), "retell", "custom_function_book_appointment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	NewLogger(&buf, slog.LevelInfo).Info("received", slog.Any("body", json.RawMessage(body)))
	out := buf.String()
	for _, v := range []string{"Maria Rossi", "+14155550123", "+14155550199", "maria.rossi@example.com", "check-up", "Thursday"} {
		if strings.Contains(out, v) {
			t.Errorf("log contains %q", v)
		}
	}
	if !strings.Contains(out, "call_0b8f4c2a6d9e41f7a3c5e2d1b7f9a604") {
		t.Errorf("call id lost: %s", out)
	}
}

func TestRedactText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"+4930123456", "+49…56"},
		{"ruf +49 30 123456 an", "ruf +49…56 an"},
		{"0171 1234567", "0…67"},
		{"(030) 123456.", "0…56."},
		{"Nummer: 0171-1234567, danke", "Nummer: 0…67, danke"},
		{"4930123456", "49…56"},
		{"max@example.de.", RedactedEmail + "."},
		{"a: max.muster@sub.example.co.uk b", "a: " + RedactedEmail + " b"},
		// Not personal data: must stay exactly as is.
		{"2026-11-05T14:30:00+01:00", "2026-11-05T14:30:00+01:00"},
		{"05.11.2026 um 14:30", "05.11.2026 um 14:30"},
		{"uid 123e4567-e89b-12d3-a456-026614174000", "uid 123e4567-e89b-12d3-a456-026614174000"},
		{"call_0123456789abcdef", "call_0123456789abcdef"},
		{"event type 1001, 30 min, 0.92 EUR", "event type 1001, 30 min, 0.92 EUR"},
		{"ts=1772460312345", "ts=1772460312345"},
		{"10.0.0.12:6379", "10.0.0.12:6379"},
		{"@here no email", "@here no email"},
		{"", ""},
	}
	for _, c := range cases {
		if got := RedactText(c.in); got != c.want {
			t.Errorf("RedactText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"+4930123456": "+49…56", "0171 1234567": "0…67", "12345": ""} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsPIIKey(t *testing.T) {
	for _, k := range []string{"name", "customerName", "first_name", "caller_phone", "FROM_NUMBER", "email", "transcript_object", "call_summary", "notes", "recording_url"} {
		if !IsPIIKey(k) {
			t.Errorf("%s should be PII", k)
		}
	}
	for _, k := range []string{"tenant", "call_id", "function", "status", "latency_ms", "service", "event_type_id", "msg"} {
		if IsPIIKey(k) {
			t.Errorf("%s should not be PII", k)
		}
	}
}

func BenchmarkLogger(b *testing.B) {
	attrs := []slog.Attr{
		slog.String("method", "POST"), slog.String("route", "/functions/book-appointment"),
		slog.Int("status", 200), slog.Float64("latency_ms", 3.2), slog.String("request_id", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"),
		slog.String("tenant", "salon-sonnenschein"), slog.String("call_id", "call_0b8f4c2a6d9e41f7a3c5e2d1b7f9a604"),
		slog.String("outcome", "booked"),
	}
	b.Run("plain-json", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			l.LogAttrs(nil, slog.LevelInfo, "request", attrs...)
		}
	})
	b.Run("redacting", func(b *testing.B) {
		l := NewLogger(io.Discard, slog.LevelInfo)
		b.ReportAllocs()
		for b.Loop() {
			l.LogAttrs(nil, slog.LevelInfo, "request", attrs...)
		}
	})
	b.Run("redacting-with-pii", func(b *testing.B) {
		l := NewLogger(io.Discard, slog.LevelInfo)
		pii := append(attrs[:len(attrs):len(attrs)], slog.String("from_number", "+4930123456"), slog.String("note", "ruf 0171 1234567 an"))
		b.ReportAllocs()
		for b.Loop() {
			l.LogAttrs(nil, slog.LevelInfo, "caller max@example.de", pii...)
		}
	})
}

func BenchmarkRedactText(b *testing.B) {
	for _, s := range []string{"request", "booking 2026-11-05T14:30:00Z for call_0b8f4c2a6d9e41f7", "caller +4930123456 wrote max@example.de"} {
		b.Run(fmt.Sprintf("len%d", len(s)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = RedactText(s)
			}
		})
	}
}
