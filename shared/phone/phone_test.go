package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/booking"
)

func TestNormalizeE164Accepts(t *testing.T) {
	cases := []struct{ raw, region, want string }{
		{"+49 30 123456", "DE", "+4930123456"},
		{"+4930123456", "DE", "+4930123456"},
		{"030 123456", "DE", "+4930123456"},
		{"030/123456", "", "+4930123456"},
		{"0049 30 123456", "DE", "+4930123456"},
		{"0049-30-123456", "DE", "+4930123456"},
		{"+49 (0) 30 123456", "DE", "+4930123456"},
		{"0 3 0 1 2 3 4 5 6", "DE", "+4930123456"},
		{"null drei null eins zwei drei vier fünf sechs", "DE", "+4930123456"},
		{"plus vier neun drei null 1 2 3 4 5 6", "DE", "+4930123456"},
		{"0176 12345678", "DE", "+4917612345678"},
		{"+43 1 5344488", "DE", "+4315344488"},
		{"01 5344488", "AT", "+4315344488"},
		{"+1 415 555 0123", "DE", "+14155550123"},
		{" +14155550199 ", "de", "+14155550199"},
	}
	for _, c := range cases {
		got, err := NormalizeE164(c.raw, c.region)
		if err != nil {
			t.Errorf("NormalizeE164(%q, %q): %v", c.raw, c.region, err)
			continue
		}
		if got != c.want {
			t.Errorf("NormalizeE164(%q, %q) = %q, want %q", c.raw, c.region, got, c.want)
		}
	}
}

func TestNormalizeE164RejectsAnonymous(t *testing.T) {
	for _, raw := range []string{"", "  ", "anonymous", "Anonymous", "ANONYMOUS", "private", "unknown",
		"withheld", "restricted", "unavailable", "+266696687", "+86282452253", "+7378742833", "+2562533",
		"sip:anonymous@sip.example", "Unterdrückt"} {
		if !IsAnonymous(raw) {
			t.Errorf("IsAnonymous(%q) = false", raw)
		}
		_, err := NormalizeE164(raw, "DE")
		if !errors.Is(err, ErrAnonymous) {
			t.Errorf("NormalizeE164(%q): err = %v, want ErrAnonymous", raw, err)
		}
		if booking.KindOf(err) != booking.KindInvalid {
			t.Errorf("NormalizeE164(%q): kind = %q", raw, booking.KindOf(err))
		}
	}
}

func TestNormalizeE164RejectsGarbage(t *testing.T) {
	for _, raw := range []string{"hello", "12", "+49", "0800-FLOWERS", "+49 30 12345678901234567",
		"0000000", strings.Repeat("1", 200), "+1 (555)", "call me maybe"} {
		got, err := NormalizeE164(raw, "DE")
		if err == nil {
			t.Errorf("NormalizeE164(%q) = %q, want an error", raw, got)
			continue
		}
		if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrAnonymous) {
			t.Errorf("NormalizeE164(%q): err = %v, want ErrInvalid", raw, err)
		}
		if IsAnonymous(raw) {
			t.Errorf("IsAnonymous(%q) = true for garbage", raw)
		}
	}
}

func TestErrorsNeverContainTheNumber(t *testing.T) {
	for _, raw := range []string{"+49 30 1", "0176 1234", "anonymous", "+266696687", "+49 30 12", "+1 415 555 01"} {
		_, err := NormalizeE164(raw, "DE")
		if err == nil {
			t.Fatalf("NormalizeE164(%q) accepted", raw)
		}
		if digits := compact(raw); len(digits) > 3 && strings.Contains(compact(err.Error()), strings.TrimPrefix(digits, "+")) {
			t.Errorf("error %q leaks the number", err)
		}
	}
}

func TestIsE164(t *testing.T) {
	for s, want := range map[string]bool{
		"+4930123456": true, "+14155550123": true,
		"4930123456": false, "+49 30 123456": false, "+04930123456": false, "": false, "+266696687": false,
	} {
		if got := IsE164(s); got != want {
			t.Errorf("IsE164(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"+4930123456":    "***56",
		"+4917612345678": "***78",
		"030 1234 56":    "***56",
		"7":              "***",
		"":               "***",
		"anonymous":      "***",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalizeE164 checks the invariants for any input: no panic, the result
// is a fixed point in E.164 form, and errors never carry the input.
func FuzzNormalizeE164(f *testing.F) {
	for _, s := range []string{"+49 30 123456", "030 123456", "0049 30 123456", "anonymous", "+266696687",
		"null drei null eins zwei", "+1 415 555 0123", "", "++49", "0\u00a030", "٠١٢٣"} {
		f.Add(s, "DE")
	}
	f.Add("01 5344488", "AT")
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := NormalizeE164(raw, region)
		r := Redact(raw)
		if !strings.HasPrefix(r, "***") || len(r) > 5 {
			t.Fatalf("Redact(%q) = %q", raw, r)
		}
		if err != nil {
			if booking.KindOf(err) != booking.KindInvalid {
				t.Fatalf("kind %q for %q", booking.KindOf(err), raw)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrAnonymous) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if IsAnonymous(raw) {
			t.Fatalf("anonymous input %q normalised to %q", raw, got)
		}
		if !IsE164(got) {
			t.Fatalf("NormalizeE164(%q) = %q is not E.164", raw, got)
		}
		again, err := NormalizeE164(got, "US")
		if err != nil || again != got {
			t.Fatalf("not a fixed point: %q → %q → %q, %v", raw, got, again, err)
		}
	})
}
