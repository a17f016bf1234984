package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Redaction works on two levels, because neither alone is enough:
//   - by key: an attribute (or JSON member, or group) whose key names
//     personal data is replaced whatever its value looks like;
//   - by value: every other string, messages included, is scanned for
//     things that look like phone numbers or email addresses.
// Names inside free text cannot be recognised; that is why free-text fields
// (transcripts, summaries, notes) are dropped by key, never scanned.

// Replacement texts. They are stable so tests and log queries can rely on them.
const (
	Redacted      = "[redacted]"
	RedactedEmail = "[email]"
)

type piiClass uint8

const (
	notPII piiClass = iota
	piiPhone
	piiOther // names, emails, free text, addresses: dropped completely
)

// piiKeys are normalised keys (lower case, no '_', '-', '.', ' ').
var piiKeys = map[string]piiClass{
	"phone": piiPhone, "phonenumber": piiPhone, "fromnumber": piiPhone, "tonumber": piiPhone,
	"callernumber": piiPhone, "mobile": piiPhone, "mobilenumber": piiPhone, "telephone": piiPhone,
	"tel": piiPhone, "e164": piiPhone, "msisdn": piiPhone, "callerid": piiPhone,

	"name": piiOther, "firstname": piiOther, "lastname": piiOther, "fullname": piiOther,
	"givenname": piiOther, "familyname": piiOther, "surname": piiOther, "displayname": piiOther,
	"username": piiOther, "customer": piiOther, "caller": piiOther, "attendee": piiOther,
	"attendees": piiOther, "guests": piiOther, "responses": piiOther, "email": piiOther,
	"mail": piiOther, "emailaddress": piiOther, "address": piiOther, "street": piiOther,
	"birthday": piiOther, "dateofbirth": piiOther, "dob": piiOther, "summary": piiOther,
	"notes": piiOther, "note": piiOther, "comment": piiOther, "comments": piiOther,
	"description": piiOther, "transcript": piiOther, "utterance": piiOther, "content": piiOther,
	"dynamicvariables": piiOther, "args": piiOther, "arguments": piiOther,
}

// piiKeyParts catch composed keys such as customer_phone or caller_first_name.
var piiKeyParts = []struct {
	part  string
	class piiClass
}{
	{"phone", piiPhone}, {"mobile", piiPhone}, {"email", piiOther}, {"transcript", piiOther},
	{"recording", piiOther}, {"firstname", piiOther}, {"lastname", piiOther}, {"fullname", piiOther},
	{"customername", piiOther}, {"callername", piiOther}, {"attendeename", piiOther},
	{"summary", piiOther}, {"notes", piiOther}, {"dynamicvariables", piiOther},
}

func classifyKey(key string) piiClass {
	var buf [64]byte
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '-' || c == '.' || c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if n == len(buf) {
			break
		}
		buf[n] = c
		n++
	}
	norm := buf[:n]
	if c, ok := piiKeys[string(norm)]; ok {
		return c
	}
	for _, p := range piiKeyParts {
		if bytes.Contains(norm, []byte(p.part)) {
			return p.class
		}
	}
	return notPII
}

// IsPIIKey reports whether values under this key are personal data.
func IsPIIKey(key string) bool { return classifyKey(key) != notPII }

// redactByKey returns the replacement for a string value under a PII key.
func redactByKey(class piiClass, s string) string {
	if class == piiPhone && s != "" {
		if m := MaskPhone(s); m != "" {
			return m
		}
	}
	return Redacted
}

// MaskPhone shows a phone number as "+49…56": at most the country code and
// the last two digits. It returns "" if s has fewer than 6 digits.
func MaskPhone(s string) string {
	var digits [32]byte
	n := 0
	for i := 0; i < len(s) && n < len(digits); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits[n] = s[i]
			n++
		}
	}
	if n < 6 {
		return ""
	}
	t := strings.TrimLeft(s, " (")
	switch {
	case strings.HasPrefix(t, "+"):
		return "+" + string(digits[:2]) + "…" + string(digits[n-2:n])
	case digits[0] == '0': // national format: the trunk prefix tells nothing
		return "0…" + string(digits[n-2:n])
	}
	return string(digits[:2]) + "…" + string(digits[n-2:n]) // E.164 without '+
}

// RedactText replaces phone numbers and email addresses inside free text.
// Text without '@' and with fewer than six digits is returned as is, without
// allocating, which is the common case for log messages.
func RedactText(s string) string {
	digits, at := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '@':
			at = true
		}
	}
	if digits < 6 && !at {
		return s
	}
	var b strings.Builder
	last := 0 // s[last:i] not yet copied
	for i := 0; i < len(s); {
		if s[i] == '@' {
			if start, end, ok := emailAround(s, i); ok && start >= last {
				b.WriteString(s[last:start])
				b.WriteString(RedactedEmail)
				last, i = end, end
				continue
			}
		}
		if end, ok := phoneAt(s, i); ok {
			b.WriteString(s[last:i])
			b.WriteString(MaskPhone(s[i:end]))
			last, i = end, end
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= utf8.RuneSelf
}

func isLocalByte(c byte) bool {
	return isWordByte(c) && c < utf8.RuneSelf || strings.IndexByte(".%+-'", c) >= 0
}

func isDomainByte(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c >= utf8.RuneSelf
}

// emailAround finds an address whose '@' is at s[at].
func emailAround(s string, at int) (start, end int, ok bool) {
	start = at
	for start > 0 && isLocalByte(s[start-1]) {
		start--
	}
	end = at + 1
	for end < len(s) && isDomainByte(s[end]) {
		end++
	}
	for end > at+1 && s[end-1] == '.' { // sentence end
		end--
	}
	domain := s[at+1 : end]
	dot := strings.LastIndexByte(domain, '.')
	if start == at || dot <= 0 || len(domain)-dot-1 < 2 {
		return 0, 0, false
	}
	return start, end, true
}

func isPhoneSep(c byte) bool { return c == ' ' || c == '-' || c == '/' || c == '(' || c == ')' }

// phoneAt reports whether a phone number starts at s[i] and where it ends.
// A number starts with '+', "(0" or '0' (German trunk prefix), or is a bare
// DACH E.164 without '+' (49…, 43…, 41…; 10–13 digits), has 6–15 digits,
// separators (space - / parentheses) only between digits, and stands alone:
// no letter or digit directly before or after, and not the tail of a token
// like a UUID ("…-026614174000"). Dates (2026-11-05, 05.11.2026), times,
// amounts and ids do not match these rules.
func phoneAt(s string, i int) (int, bool) {
	if i > 0 {
		p := s[i-1]
		if isWordByte(p) || p == '+' {
			return 0, false
		}
		if (p == '-' || p == '.' || p == '/') && i > 1 && isWordByte(s[i-2]) {
			return 0, false
		}
	}
	j := i
	plus := false
	switch {
	case s[j] == '+':
		plus = true
		j++
	case s[j] == '(' && j+1 < len(s) && s[j+1] == '0':
		j++
	}
	if j >= len(s) || s[j] < '0' || s[j] > '9' {
		return 0, false
	}
	first := j
	digits, seps, end := 0, 0, j
	for j < len(s) && digits <= 15 {
		c := s[j]
		if c >= '0' && c <= '9' {
			digits++
			seps = 0
			j++
			end = j
			continue
		}
		if isPhoneSep(c) && seps < 3 {
			seps++
			j++
			continue
		}
		break
	}
	if digits < 6 || digits > 15 || (end < len(s) && isWordByte(s[end])) {
		return 0, false
	}
	switch {
	case plus, s[first] == '0':
		return end, true
	case s[i] != '(' && end-i == digits && digits >= 10 && digits <= 13 &&
		(strings.HasPrefix(s[i:], "49") || strings.HasPrefix(s[i:], "43") || strings.HasPrefix(s[i:], "41")):
		return end, true
	}
	return 0, false
}

// redactJSON rewrites a JSON document: members under PII keys are replaced,
// other strings (and member names) are scanned. Invalid JSON comes back as
// redacted text.
func redactJSON(data []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		out, _ := json.Marshal(RedactText(string(data)))
		return out
	}
	out, err := json.Marshal(redactValue(v, notPII))
	if err != nil {
		return json.RawMessage(`"` + Redacted + `"`)
	}
	return out
}

func redactValue(v any, class piiClass) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			c := class
			if c == notPII {
				c = classifyKey(k)
			}
			out[RedactText(k)] = redactValue(e, c)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = redactValue(e, class)
		}
		return out
	case string:
		if class != notPII {
			return redactByKey(class, t)
		}
		return RedactText(t)
	case json.Number:
		if class != notPII {
			return redactByKey(class, t.String())
		}
		return t
	case nil, bool:
		return t
	}
	if class != notPII {
		return Redacted
	}
	return RedactText(fmt.Sprint(v))
}
