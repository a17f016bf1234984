package spectest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The patched spec loads, and the schemas the checks rely on exist.
func TestLoadPatchesKnownDefects(t *testing.T) {
	s := Load(t)
	if s.Schema("BookingOutput_2024_08_13") == nil {
		t.Fatal("BookingOutput_2024_08_13 missing")
	}
	body := s.Doc.Paths.Value("/v2/bookings").Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	if len(body.OneOf) != 0 || len(body.AnyOf) != 3 {
		t.Fatalf("request body not patched: oneOf=%d anyOf=%d", len(body.OneOf), len(body.AnyOf))
	}
	if err := CheckErrorEnvelope([]byte(`{"status":"error","timestamp":"2026-01-01T00:00:00.000Z","path":"/v2/bookings","error":{"code":"BadRequestException","message":"x"}}`)); err != nil {
		t.Fatal(err)
	}
	if CheckErrorEnvelope([]byte(`{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","status":422}`)) == nil {
		t.Fatal("problem+json must not pass as Cal.com's envelope")
	}
}

// captureTB records Errorf calls so the validator's own failures can be asserted.
type captureTB struct {
	testing.TB
	errs []string
}

func (c *captureTB) Errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// The checks are real: a request or answer that breaks the spec is reported.
func TestValidatorCatchesViolations(t *testing.T) {
	s := Load(t)
	answer := `{"status":"success","data":{"id":1,"uid":"u"}}` // lacks most required BookingOutput fields
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v2/slots":
			w.Write([]byte(`{"2050-09-05":[{"start":"2050-09-05T09:00:00.000+02:00"}]}`)) // no wrapper
		case "/v2/bookings/u/cancel":
			w.WriteHeader(500)
			w.Write([]byte(`oops`))
		default:
			w.WriteHeader(201)
			w.Write([]byte(answer))
		}
	}))
	defer srv.Close()
	send := func(method, path, version, body string) []string {
		tb := &captureTB{TB: t}
		c := &http.Client{Transport: s.Transport(tb, nil)}
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if version != "" {
			req.Header.Set("cal-api-version", version)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return tb.errs
	}
	okBody := `{"start":"2050-09-05T07:00:00Z","eventTypeId":1,"attendee":{"name":"A","timeZone":"Europe/Berlin","email":"a@example.com"}}`
	cases := map[string]struct {
		errs []string
		want string
	}{
		"missing version":        {send("POST", "/v2/bookings", "", okBody), "cal-api-version"},
		"attendee without zone":  {send("POST", "/v2/bookings", "2024-08-13", `{"start":"2050-09-05T07:00:00Z","attendee":{"name":"A"}}`), "request body has an error"},
		"incomplete booking":     {send("POST", "/v2/bookings", "2024-08-13", okBody), "not a plain BookingOutput"},
		"slots without wrapper":  {send("GET", "/v2/slots?start=2050-09-05&end=2050-09-06&eventTypeId=1", "2024-09-04", ""), "wrapper"},
		"error without envelope": {send("POST", "/v2/bookings/u/cancel", "2024-08-13", `{}`), "error envelope"},
		"unknown path":           {send("GET", "/v2/nothing", "2024-08-13", ""), "not in the Cal.com spec"},
	}
	for name, c := range cases {
		joined := strings.Join(c.errs, "\n")
		if !strings.Contains(joined, c.want) {
			t.Errorf("%s: want a violation mentioning %q, got:\n%s", name, c.want, joined)
		}
	}
}
