package incall_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/testenv"
)

var functions = []string{"check-availability", "book-appointment", "cancel-appointment", "reschedule-appointment", "find-appointments", "list-services"}

func TestEnvelopeErrors(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	call := `{"call_id":"call_env","to_number":"+4930123456","from_number":"+4915112345678"}`
	for _, c := range []struct{ name, body string }{
		{"empty", ``},
		{"not JSON", `check availability please`},
		{"array", `[]`},
		{"args not an object", `{"name":"check_availability","call":` + call + `,"args":"morgen"}`},
		{"call not an object", `{"name":"check_availability","call":"x","args":{}}`},
		{"call without id", `{"name":"check_availability","call":{"to_number":"+4930123456"},"args":{}}`},
		{"to number not E.164", `{"name":"check_availability","call":{"call_id":"c1","to_number":"030 123456"},"args":{}}`},
		{"from number not E.164", `{"name":"check_availability","call":{"call_id":"c1","to_number":"+4930123456","from_number":"0151 123"},"args":{}}`},
		{"start in the far future", `{"name":"check_availability","call":{"call_id":"c1","to_number":"+4930123456","start_timestamp":4102444800000},"args":{}}`},
		{"nested argument", `{"name":"check_availability","call":` + call + `,"args":{"date":{"day":"morgen"}}}`},
		{"argument too long", `{"name":"check_availability","call":` + call + `,"args":{"date":"` + strings.Repeat("x", 600) + `"}}`},
		{"args only without call context", `{"service":"Herrenhaarschnitt","date":"morgen"}`},
		{"bad function name", `{"name":"check availability!","call":` + call + `,"args":{}}`},
	} {
		for _, fn := range functions {
			status, body := s.raw(fn, []byte(c.body), "")
			if status != http.StatusBadRequest {
				t.Errorf("%s via %s: status %d (%s), want 400", c.name, fn, status, body)
			}
			if strings.Contains(body, "+4915112345678") {
				t.Errorf("%s: error echoes the caller's number", c.name)
			}
		}
	}
}

func TestSignature(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	body := s.envelope("check-availability", s.call("call_sig"), isoArgs("Herrenhaarschnitt", at(2027, 3, 2, 14, 0)))
	now := s.e.Clock.Now().UnixMilli()
	for _, c := range []struct{ name, sig string }{
		{"wrong key", retell.Sign(body, "key_someone_else", now)},
		{"expired", retell.Sign(body, apptest.RetellAPIKey, now-10*60*1000)},
		{"from the future", retell.Sign(body, apptest.RetellAPIKey, now+10*60*1000)},
		{"other body", retell.Sign(append([]byte(" "), body...), apptest.RetellAPIKey, now)},
		{"garbage", "v=1,d=zz"},
		{"missing", " "},
	} {
		for _, fn := range functions {
			if status, _ := s.raw(fn, body, c.sig); status != http.StatusUnauthorized {
				t.Errorf("%s via %s: status %d, want 401", c.name, fn, status)
			}
		}
	}
	if status, _ := s.raw("check-availability", body, " "+s.e.Sign(body)+" "); status != http.StatusOK {
		t.Errorf("whitespace around a good signature: status %d", status)
	}
	if n := len(activeBookings(s.e.Sandbox)); n != 0 {
		t.Errorf("unsigned requests booked %d", n)
	}
}

func TestUnknownDialledNumber(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	body := []byte(`{"name":"list_services","call":{"call_id":"call_x","to_number":"+4940999999","from_number":"+4915112345678"},"args":{}}`)
	status, out := s.raw("list-services", body, "")
	a := s.decode(out)
	if status != 200 || a.OK || a.Reason != incall.ReasonNotAllowed {
		t.Fatalf("%d %+v", status, a)
	}
}

// FuzzInCallArgs feeds arbitrary argument objects through the whole signed
// handler of every function: nothing may reach a 5xx, and every 200 is a
// well-formed answer.
func FuzzInCallArgs(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `{"service":"Herrenhaarschnitt","date":"morgen","time":"14 Uhr"}`,
		`{"date":"2027-03-02","time":"14:00","customer_name":"Erika","customer_phone":"0151 2345 6789"}`,
		`{"date":"Sonntag","time_preference":"abends"}`, `{"date":"28.03.2027","time":"02:30"}`,
		`{"date":"31.12.9999","time":"25:61"}`, `{"service":1e309}`, `{"service":true,"date":-1,"time":0.5}`,
		`{"customer_email":"a@b","customer_phone":"+","notes":"\u0000"}`, `{"new_date":"gestern","new_time":"halb"}`,
		`{"date":"in 99999999999 Tagen"}`, `{"category":"Haarschnitt"}`, `{"DATE":"heute","Time":"jetzt"}`,
		`{"date":"Dienstag, den 2. März","time":"viertel vor elf"}`, `{"date":"","time":"","service":""}`,
	} {
		for i := range functions {
			f.Add(uint8(i), []byte(seed))
		}
	}
	// Each fuzzing worker process gets its own database, dropped at the end.
	db := dbName(f) + "_" + strconv.Itoa(os.Getpid())
	s := newSys(f, apptest.Options{DBName: db})
	f.Cleanup(func() { _, _ = s.e.Store.DB().Exec("DROP DATABASE IF EXISTS `" + testenv.DatabasePrefix() + db + "`") })
	f.Fuzz(func(t *testing.T, fn uint8, args []byte) {
		name := functions[int(fn)%len(functions)]
		if len(args) > 32<<10 {
			return
		}
		call := `{"call_id":"call_fuzz","to_number":"+4930123456","from_number":"+4915112345678","start_timestamp":` +
			jsonInt(s.e.Clock.Now().Add(-time.Minute).UnixMilli()) + `}`
		body := []byte(`{"name":"` + retell.ToolName(name) + `","call":` + call + `,"args":` + string(args) + `}`)
		ev := events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Path: "/functions/" + name, Resource: "/functions/" + name,
			Headers: map[string]string{retell.SignatureHeader: s.e.Sign(body)}, Body: string(body)}
		resp, err := s.handlers[name](context.Background(), ev)
		if err != nil {
			t.Fatalf("handler error: %v", err)
		}
		switch resp.StatusCode {
		case 200:
			var a incall.Answer
			if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
				t.Fatalf("200 with a body that is no answer: %v", err)
			}
			if len(resp.Body) >= 2048 {
				t.Errorf("answer of %d bytes", len(resp.Body))
			}
			checkAnswer(t, a)
		case 400:
		default:
			t.Fatalf("status %d for args %q: %s", resp.StatusCode, args, resp.Body)
		}
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
