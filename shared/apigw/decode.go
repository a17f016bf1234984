package apigw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
)

// DecodeStrict decodes one JSON value into v and rejects unknown fields,
// trailing data, empty bodies and anything that is not JSON. Use it for our
// own contracts (custom-function arguments), where an unknown field is a
// mistake worth hearing about.
func DecodeStrict(body []byte, v any) error { return decode(body, v, true) }

// DecodeLenient is DecodeStrict without the unknown-field check, for bodies
// whose sender adds fields over time (Retell and Cal.com webhooks).
func DecodeLenient(body []byte, v any) error { return decode(body, v, false) }

const decodeOp = "apigw.Decode"

func decode(body []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return booking.Errorf(booking.KindInvalid, decodeOp, "request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return decodeError(err, v)
	}
	// Exactly one value: "{}{}" or "{} x" is rejected, trailing spaces are not.
	if _, err := dec.Token(); err != io.EOF {
		return booking.Errorf(booking.KindInvalid, decodeOp, "unexpected data after the JSON value at offset %d", dec.InputOffset())
	}
	return nil
}

// decodeError turns encoding/json errors into KindInvalid errors whose
// message names a field or an offset, never a value from the body.
func decodeError(err error, v any) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		be  *booking.Error
	)
	switch {
	case errors.As(err, &be): // from a type's own UnmarshalJSON: PII-free by contract
		return booking.Wrap(booking.KindInvalid, decodeOp, be, be.Message)
	case errors.As(err, &syn):
		return booking.Errorf(booking.KindInvalid, decodeOp, "invalid JSON at offset %d", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return booking.Errorf(booking.KindInvalid, decodeOp, "JSON ends too early")
	case errors.As(err, &typ):
		got, _, _ := strings.Cut(typ.Value, " ") // "number 1e999" would echo the input
		if typ.Field == "" {
			return booking.Errorf(booking.KindInvalid, decodeOp, "request body must be %s, not a JSON %s", jsonKind(reflect.TypeOf(v)), got)
		}
		return booking.Errorf(booking.KindInvalid, decodeOp, "field %q must be %s, not a JSON %s", safeName(typ.Field), jsonKind(typ.Type), got)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return booking.Errorf(booking.KindInvalid, decodeOp, "unknown field %s", safeName(name))
	}
	var inv *json.InvalidUnmarshalError
	if errors.As(err, &inv) {
		return booking.Wrap(booking.KindInternal, decodeOp, err, "decode target must be a non-nil pointer")
	}
	// Errors of other UnmarshalJSON methods (time.Time, …) may quote the
	// input; say only that a value was wrong.
	return booking.Errorf(booking.KindInvalid, decodeOp, "a field has an invalid value")
}

// safeName keeps a field name from the body short and free of anything that
// looks like personal data (a sender could put a phone number in a key).
func safeName(s string) string {
	s = platform.RedactText(s)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return fmt.Sprintf("a %s", t.Kind())
}
