// Package phone normalises telephone numbers to E.164, recognises suppressed
// caller ids and redacts numbers for logs. Parsing is done by
// github.com/nyaruka/phonenumbers (a port of Google's libphonenumber), so the
// numbering plans of every country are known without hand-written rules.
package phone

import (
	"errors"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/telefonagent/gateway/shared/booking"
)

// DefaultRegion is used for national numbers ("030 123456") when the caller
// names none: the first market is Germany.
const DefaultRegion = "DE"

// ErrAnonymous marks a suppressed or withheld caller id. It is never a
// number: no lookup may be made with it.
var ErrAnonymous = errors.New("phone: anonymous or suppressed number")

// ErrInvalid marks input that is not a telephone number.
var ErrInvalid = errors.New("phone: not a valid telephone number")

// anonymousWords are the caller-id placeholders that carriers and telephony
// providers put where a number was withheld (compared case-insensitively,
// after trimming).
var anonymousWords = map[string]bool{
	"":            true,
	"anonymous":   true,
	"anonym":      true,
	"private":     true,
	"privat":      true,
	"unknown":     true,
	"unbekannt":   true,
	"withheld":    true,
	"blocked":     true,
	"restricted":  true,
	"unavailable": true,
	"suppressed":  true,
	"unterdrückt": true,
	"null":        true,
	"none":        true,
	"n/a":         true,
	"-":           true,
}

// anonymousKeypadNumbers are the words above typed on a phone keypad, which
// Twilio (behind Retell) sends in E.164 form for withheld numbers:
// ANONYMOUS, UNKNOWN, RESTRICTED, BLOCKED.
var anonymousKeypadNumbers = map[string]bool{
	"+266696687":   true,
	"+86282452253": true,
	"+7378742833":  true,
	"+2562533":     true,
}

// IsAnonymous reports whether raw is a withheld caller id rather than a
// number (empty, "anonymous", "private", "unknown", a keypad spelling of
// those such as "+266696687"). Other garbage is not anonymous but invalid.
func IsAnonymous(raw string) bool {
	s := strings.ToLower(strings.TrimSpace(raw))
	if anonymousWords[s] {
		return true
	}
	if anonymousKeypadNumbers[compact(s)] {
		return true
	}
	// Values like "sip:anonymous@…" or "Anonymous Caller".
	if strings.Contains(s, "anonym") || strings.Contains(s, "withheld") || strings.Contains(s, "restricted") {
		return true
	}
	return false
}

// compact drops spaces and separators, keeping '+' and digits.
func compact(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '+' || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// digitWords lets an agent pass a number as the caller spelled it
// ("null drei null eins zwei drei …", "plus vier neun …").
var digitWords = map[string]string{
	"null": "0", "zero": "0", "oh": "0",
	"eins": "1", "ein": "1", "one": "1",
	"zwei": "2", "zwo": "2", "two": "2",
	"drei": "3", "three": "3",
	"vier": "4", "four": "4",
	"fünf": "5", "fuenf": "5", "five": "5",
	"sechs": "6", "six": "6",
	"sieben": "7", "seven": "7",
	"acht": "8", "eight": "8",
	"neun": "9", "nine": "9",
	"plus": "+",
}

// spelledToDigits turns a string made only of digit words (and digits) into
// digits. ok is false when any other word appears.
func spelledToDigits(s string) (string, bool) {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == '-' || r == '.' || r == '/'
	})
	if len(words) < 2 {
		return "", false
	}
	var b strings.Builder
	sawWord := false
	for _, w := range words {
		if d, ok := digitWords[w]; ok {
			b.WriteString(d)
			sawWord = true
			continue
		}
		for _, r := range w {
			if r < '0' || r > '9' {
				if r == '+' && b.Len() == 0 {
					b.WriteRune(r)
					continue
				}
				return "", false
			}
			b.WriteRune(r)
		}
	}
	return b.String(), sawWord
}

// maxInputLen bounds what we hand to the parser (libphonenumber itself stops
// at 250 characters).
const maxInputLen = 100

// NormalizeE164 parses raw and returns it in E.164 ("+4930123456").
// National numbers are read in defaultRegion ("" means DE); "00" and "+"
// prefixes, spaces, brackets, dashes and spelled digits are accepted.
//
// A number must be valid for its country's numbering plan, not merely of a
// possible length: German numbers have so many lengths that "possible"
// accepts "+49 30 1". (A range newer than the library's metadata is refused
// until the library is updated; that is the price of rejecting typos.)
//
// Errors are *booking.Error of KindInvalid wrapping ErrAnonymous or
// ErrInvalid; their text never contains the number.
func NormalizeE164(raw, defaultRegion string) (string, error) {
	const op = "phone.NormalizeE164"
	if IsAnonymous(raw) {
		return "", booking.Wrap(booking.KindInvalid, op, ErrAnonymous, "anonymous caller id")
	}
	if len(raw) > maxInputLen {
		return "", booking.Wrap(booking.KindInvalid, op, ErrInvalid, "phone number too long")
	}
	if defaultRegion == "" {
		defaultRegion = DefaultRegion
	}
	s := strings.TrimSpace(raw)
	if d, ok := spelledToDigits(s); ok {
		s = d
	}
	// Letters would be read as keypad letters by the parser ("0800-FLOWERS");
	// a caller id or a spoken number never has them, so refuse them.
	for _, r := range s {
		if unicode.IsLetter(r) {
			return "", booking.Wrap(booking.KindInvalid, op, ErrInvalid, "phone number contains letters")
		}
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(defaultRegion))
	if err != nil {
		return "", booking.Wrap(booking.KindInvalid, op, ErrInvalid, "not a phone number")
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", booking.Wrap(booking.KindInvalid, op, ErrInvalid, "not a valid phone number")
	}
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	if anonymousKeypadNumbers[e164] {
		return "", booking.Wrap(booking.KindInvalid, op, ErrAnonymous, "anonymous caller id")
	}
	return e164, nil
}

// IsE164 reports whether s is already a normalised number (what
// NormalizeE164 returns for itself).
func IsE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	n, err := NormalizeE164(s, DefaultRegion)
	return err == nil && n == s
}

// Redact shows at most the last two digits of a number, for logs and
// operator messages: "+4930123456" → "***56". Anything without two digits
// becomes "***".
func Redact(number string) string {
	var last [2]byte
	n := 0
	for i := len(number) - 1; i >= 0 && n < 2; i-- {
		if c := number[i]; c >= '0' && c <= '9' {
			last[1-n] = c
			n++
		}
	}
	if n < 2 {
		return "***"
	}
	return "***" + string(last[:])
}
