package incall

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/telefonagent/gateway/shared/booking"
)

// aliases maps the argument names an LLM (or the original system's flows)
// may use to ours. Unknown names are ignored: the LLM's extra fields must
// never break a call.
var aliases = map[string]string{
	"service": "service", "service_name": "service", "dienstleistung": "service", "service_id": "service",
	"date": "date", "datum": "date", "day": "date",
	"time": "time", "uhrzeit": "time", "clock": "time",
	"time_preference": "time_preference", "tageszeit": "time_preference", "preference": "time_preference",
	"customer_name": "customer_name", "name": "customer_name", "attendee_name": "customer_name",
	"customer_email": "customer_email", "email": "customer_email", "attendee_email": "customer_email",
	"customer_phone": "customer_phone", "phone": "customer_phone", "telefon": "customer_phone", "telefonnummer": "customer_phone",
	"notes": "notes", "notiz": "notes", "anmerkung": "notes",
	"reason": "reason", "grund": "reason",
	"new_date": "new_date", "neues_datum": "new_date",
	"new_time": "new_time", "neue_uhrzeit": "new_time",
	"category": "category", "kategorie": "category",
}

// maxArgLen bounds any single argument: nothing a caller says is longer,
// and a huge value must not reach the parsers or the calendar.
const maxArgLen = 500

// DecodeArgs reads the arguments object leniently: strings, numbers and
// booleans are accepted as text; nested objects and arrays are rejected
// for known fields. A missing or null object gives empty Args.
func DecodeArgs(raw json.RawMessage) (Args, error) {
	var a Args
	if len(raw) == 0 || string(raw) == "null" {
		return a, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return a, booking.Errorf(booking.KindInvalid, "incall.DecodeArgs", "args must be a JSON object")
	}
	for k, v := range m {
		field, ok := aliases[strings.ToLower(strings.TrimSpace(k))]
		if !ok {
			continue
		}
		s, err := scalar(v)
		if err != nil {
			return Args{}, booking.Errorf(booking.KindInvalid, "incall.DecodeArgs", "argument %q must be a string", field)
		}
		if len(s) > maxArgLen {
			return Args{}, booking.Errorf(booking.KindInvalid, "incall.DecodeArgs", "argument %q is too long", field)
		}
		switch field {
		case "service":
			a.Service = s
		case "date":
			a.Date = s
		case "time":
			a.Time = s
		case "time_preference":
			a.TimePreference = s
		case "customer_name":
			a.CustomerName = s
		case "customer_email":
			a.CustomerEmail = s
		case "customer_phone":
			a.CustomerPhone = s
		case "notes":
			a.Notes = s
		case "reason":
			a.Reason = s
		case "new_date":
			a.NewDate = s
		case "new_time":
			a.NewTime = s
		case "category":
			a.Category = s
		}
	}
	return a, nil
}

func scalar(v json.RawMessage) (string, error) {
	t := strings.TrimSpace(string(v))
	switch {
	case t == "null":
		return "", nil
	case strings.HasPrefix(t, `"`):
		var s string
		err := json.Unmarshal(v, &s)
		return strings.TrimSpace(s), err
	case t == "true" || t == "false":
		return t, nil
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return t, nil
	}
	return "", booking.Errorf(booking.KindInvalid, "incall.scalar", "not a scalar")
}
