package privacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/privacy"
)

const devToken = "admin_test_token"

type call struct {
	method, id, phone, token, principal, body string
	userArn                                   string
}

func (w *world) invoke(t *testing.T, h apigw.LambdaHandler, tenant string, c call) (int, []byte) {
	t.Helper()
	suffix := "/export"
	if c.method == "POST" {
		suffix = "/erase"
	}
	ev := events.APIGatewayProxyRequest{HTTPMethod: c.method, Resource: "/admin/tenants/{tenant}/customers/{id}" + suffix,
		Path:           "/admin/tenants/" + tenant + "/customers/" + c.id + suffix,
		PathParameters: map[string]string{"tenant": tenant, "id": c.id}, Headers: map[string]string{}, Body: c.body}
	ev.RequestContext.Identity.UserArn = c.userArn
	if c.phone != "" {
		ev.QueryStringParameters = map[string]string{"phone": c.phone}
	}
	if c.token != "" {
		ev.Headers["Authorization"] = "Bearer " + c.token
	}
	if c.principal != "" {
		ev.Headers["x-admin-principal"] = c.principal
	}
	resp, err := h(context.Background(), ev)
	mustNil(t, err, "invoke")
	return resp.StatusCode, []byte(resp.Body)
}

func TestAdminHandler(t *testing.T) {
	w := newWorld(t)
	demo := w.demo.Tenant.ID
	var logs bytes.Buffer
	opts := apigw.Options{Logger: platform.NewLogger(&logs, nil)}
	dev := apigw.Wrap("privacy", privacy.Handler(w.svc, platform.StageDev, devToken), opts)
	aID := strconv.FormatInt(w.a.customerID, 10)

	for _, tc := range []struct {
		name string
		c    call
		want int
	}{
		{"no token", call{method: "GET", id: aID}, 401},
		{"wrong token", call{method: "GET", id: aID, token: "admin_test_tokeX"}, 401},
		{"token prefix", call{method: "GET", id: aID, token: "admin_test"}, 401},
		{"bad id", call{method: "GET", id: "abc", token: devToken}, 400},
		{"zero id", call{method: "GET", id: "0", token: devToken}, 400},
		{"id and phone", call{method: "GET", id: aID, phone: phoneA, token: devToken}, 400},
		{"bad phone", call{method: "GET", id: "by-phone", phone: "12", token: devToken}, 400},
		{"unknown customer", call{method: "GET", id: "999999", token: devToken}, 404},
		{"unknown number", call{method: "GET", id: "by-phone", phone: "+4989000111222", token: devToken}, 404},
		{"erase without body", call{method: "POST", id: aID, token: devToken}, 400},
		{"erase without reason", call{method: "POST", id: aID, token: devToken, body: `{"reason":"  "}`}, 400},
		{"erase unknown field", call{method: "POST", id: aID, token: devToken, body: `{"reason":"x","force":true}`}, 400},
		{"erase unknown customer", call{method: "POST", id: "999999", token: devToken, body: `{"reason":"x"}`}, 404},
	} {
		if got, body := w.invoke(t, dev, demo, tc.c); got != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, got, body, tc.want)
		}
	}

	status, body := w.invoke(t, dev, demo, call{method: "GET", id: aID, token: devToken})
	var exp mysql.CustomerExport
	if status != 200 || json.Unmarshal(body, &exp) != nil || exp.Customer == nil || exp.Customer.Name != "Erika Mustermann" || len(exp.Calls) != 2 {
		t.Fatalf("export: %d %s", status, body)
	}
	// A "+" that arrived decoded as a space still means "+".
	status, body = w.invoke(t, dev, demo, call{method: "GET", id: "by-phone", phone: " " + strings.TrimPrefix(phoneC, "+"), token: devToken, principal: "carol"})
	if status != 200 || !strings.Contains(string(body), "anonymer Geheimsatz C") {
		t.Fatalf("export by phone: %d %s", status, body)
	}

	status, body = w.invoke(t, dev, demo, call{method: "POST", id: aID, token: devToken, body: `{"reason":"Art. 17 Anfrage"}`})
	var res privacy.ErasureResult
	if status != 200 || json.Unmarshal(body, &res) != nil || res.AlreadyErased || len(res.Cancelled) != 2 {
		t.Fatalf("erase: %d %s", status, body)
	}
	status, body = w.invoke(t, dev, demo, call{method: "POST", id: aID, token: devToken, body: `{"reason":"Art. 17 Anfrage"}`})
	if status != 200 || !strings.Contains(string(body), `"already_erased":true`) {
		t.Fatalf("second erase: %d %s", status, body)
	}

	// The principal is in the audit: dev default and the header.
	entries, _ := w.store.AuditEntries(context.Background(), demo, "", 0)
	actors := map[string]int{}
	for _, e := range entries {
		actors[e.Actor]++
	}
	if actors["admin:"+privacy.DevPrincipal] != 3 || actors["admin:carol"] != 1 {
		t.Fatalf("audit actors = %v", actors)
	}

	// Nothing personal in the request log lines.
	secrets := append(append([]string{}, w.a.secrets...), w.c.secrets...)
	if s := containsAny(logs.String(), secrets); s != "" {
		t.Fatalf("log contains %q:\n%s", s, logs.String())
	}

	// Dev without a configured token refuses everything.
	noToken := apigw.Wrap("privacy", privacy.Handler(w.svc, platform.StageDev, ""), opts)
	if got, _ := w.invoke(t, noToken, demo, call{method: "GET", id: aID, token: ""}); got != 401 {
		t.Fatalf("unconfigured token: %d", got)
	}
	if got, _ := w.invoke(t, noToken, demo, call{method: "GET", id: aID, token: "Bearer"}); got != 401 {
		t.Fatalf("unconfigured token with a guess: %d", got)
	}
}

func TestAdminHandlerOnAWS(t *testing.T) {
	w := newWorld(t)
	demo := w.demo.Tenant.ID
	bID := strconv.FormatInt(w.b.customerID, 10)
	inner := apigw.Wrap("privacy", privacy.Handler(w.svc, platform.StageProd, devToken), apigw.Options{})
	prod := privacy.WithCallerIdentity(platform.StageProd, inner)
	const arn = "arn:aws:sts::123456789012:assumed-role/PrivacyAdmin/alice"

	// The dev token means nothing in prod; without an IAM identity: 401,
	// also when the client claims a principal itself.
	if got, _ := w.invoke(t, prod, demo, call{method: "GET", id: bID, token: devToken}); got != 401 {
		t.Fatalf("no identity: %d", got)
	}
	if got, _ := w.invoke(t, prod, demo, call{method: "GET", id: bID, principal: "mallory"}); got != 401 {
		t.Fatalf("self-declared principal: %d", got)
	}
	if got, body := w.invoke(t, prod, demo, call{method: "GET", id: bID, userArn: arn, principal: "mallory"}); got != 200 {
		t.Fatalf("IAM caller: %d %s", got, body)
	}
	entries, _ := w.store.AuditEntries(context.Background(), demo, "customer:"+bID, 0)
	if len(entries) != 1 || entries[0].Actor != "admin:"+arn {
		t.Fatalf("audit = %+v", entries)
	}
}
