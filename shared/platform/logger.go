package platform

import (
	"encoding/json"
	"io"
	"log/slog"
	"time"
)

// NewLogger returns a JSON logger whose handler redacts personal data by
// itself (see redact.go): callers cannot forget it. attrs are added to every
// line (function, version, stage).
func NewLogger(w io.Writer, level slog.Leveler, attrs ...slog.Attr) *slog.Logger {
	h := NewRedactingHandler(w, &slog.HandlerOptions{Level: level})
	if len(attrs) > 0 {
		h = h.WithAttrs(attrs)
	}
	return slog.New(h)
}

// NewRedactingHandler is slog's JSON handler with redaction installed as its
// ReplaceAttr, which slog calls for every attribute (messages, nested group
// members and attributes bound with With included). A ReplaceAttr in opts
// runs after redaction.
func NewRedactingHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	o := slog.HandlerOptions{}
	if opts != nil {
		o = *opts
	}
	next := o.ReplaceAttr
	o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		a = RedactAttr(groups, a)
		if next != nil {
			a = next(groups, a)
		}
		return a
	}
	return slog.NewJSONHandler(w, &o)
}

// RedactAttr is the ReplaceAttr function of the redacting handler. It is
// exported for handlers other than JSON (e.g. a text handler in scripts).
func RedactAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 {
		switch a.Key {
		case slog.TimeKey, slog.LevelKey, slog.SourceKey:
			if a.Value.Kind() == slog.KindTime {
				return a
			}
			switch a.Value.Any().(type) {
			case slog.Level, *slog.Source:
				return a
			}
		}
	}
	class := classifyKey(a.Key)
	for i := 0; class == notPII && i < len(groups); i++ {
		class = classifyKey(groups[i])
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		if class != notPII {
			return slog.String(a.Key, redactByKey(class, v.String()))
		}
		if s := v.String(); s != "" {
			if r := RedactText(s); r != s {
				return slog.String(a.Key, r)
			}
		}
		return a
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64:
		if class != notPII {
			return slog.String(a.Key, redactByKey(class, v.String()))
		}
		return a
	case slog.KindBool, slog.KindDuration, slog.KindTime:
		if class != notPII {
			return slog.String(a.Key, Redacted)
		}
		return a
	case slog.KindAny:
		if class != notPII {
			return slog.String(a.Key, Redacted)
		}
		return slog.Any(a.Key, redactAny(v.Any()))
	}
	return a
}

// redactAny turns an arbitrary value into redacted JSON the handler writes
// verbatim.
func redactAny(x any) any {
	switch t := x.(type) {
	case nil:
		return nil
	case error:
		return RedactText(t.Error())
	case []byte:
		if json.Valid(t) {
			return redactJSON(t)
		}
		return RedactText(string(t))
	case json.RawMessage:
		return redactJSON(t)
	case time.Time, time.Duration, bool, int, int64, float64:
		return t
	}
	b, err := json.Marshal(x)
	if err != nil {
		return Redacted
	}
	return redactJSON(b)
}
