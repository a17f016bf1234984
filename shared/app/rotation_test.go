package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/testenv"
)

// The README's "Rotate secrets" procedure, run against the real handlers
// with the secrets in Secrets Manager (moto) behind the production cache:
// no request signed with the old or the new value is refused while the
// senders switch over, and the old value stops verifying after the window.
func TestRotateRetellKeyAndCalcomSecretWithoutDroppingRequests(t *testing.T) {
	flags := platform.DefaultFlags(platform.StageDev) // signature enforcement on
	e := apptest.New(t, apptest.Options{DBName: "app_rotation", Flags: &flags})
	sm := testenv.SecretsManager(t)
	ctx := context.Background()
	put := func(id, value string) {
		t.Helper()
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(base, value string) string {
		t.Helper()
		id := testenv.UniqueName("telefonagent/test/" + base)
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(id), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
		})
		return id
	}
	const ttl = 5 * time.Minute
	d := e.Deps
	d.Config.RetellAPIKeySecret = create("retell-api-key", "key_old_0123456789")
	d.Config.CalcomWebhookSecret = create("calcom-webhook-secret", "whsec_old_0123456789")
	d.Secrets = platform.NewSecretsManager(sm, platform.CacheOptions{TTL: ttl, Clock: e.Clock})
	hs := app.HTTPHandlers(d)

	// status answers a request the way API Gateway would see it: 401 for
	// a refused signature, the handler's status otherwise.
	status := func(fn string, body []byte, header, sig string) int {
		t.Helper()
		resp, err := hs[fn](ctx, &apigw.Request{Method: http.MethodPost, Path: "/" + fn, Body: body,
			Headers: http.Header{header: {sig}, "Content-Type": {"application/json"}}})
		switch {
		case booking.KindOf(err) == booking.KindUnauthorized:
			return http.StatusUnauthorized
		case err != nil:
			t.Fatalf("%s: %v", fn, err)
		}
		return resp.Status
	}
	inCall := func(key string) int {
		call := map[string]any{"call_id": "call_rot_" + testenv.RandomHex(4), "agent_id": "agent_demo", "call_type": "phone_call",
			"direction": "inbound", "call_status": "ongoing", "to_number": apptest.DemoNumber, "from_number": "+4915112345678",
			"start_timestamp": e.Clock.Now().Add(-time.Minute).UnixMilli()}
		body, _ := json.Marshal(map[string]any{"name": retell.ToolName("list-services"), "call": call, "args": map[string]any{}})
		return status("list-services", body, retell.SignatureHeader, retell.Sign(body, key, e.Clock.Now().UnixMilli()))
	}
	events := func(key string) int {
		body, _ := json.Marshal(map[string]any{"event": "call_started", "call": map[string]any{"call_id": "call_rot_" + testenv.RandomHex(4),
			"agent_id": "agent_demo", "call_type": "phone_call", "direction": "inbound", "call_status": "ongoing",
			"to_number": apptest.DemoNumber, "from_number": "+4915112345678", "start_timestamp": e.Clock.Now().UnixMilli()}})
		return status("retell-events", body, retell.SignatureHeader, retell.Sign(body, key, e.Clock.Now().UnixMilli()))
	}
	inbound := func(key string) int {
		body, _ := json.Marshal(map[string]any{"event": "call_inbound", "call_inbound": map[string]any{
			"from_number": "+4915112345678", "to_number": apptest.DemoNumber}})
		return status("retell-inbound", body, retell.SignatureHeader, retell.Sign(body, key, e.Clock.Now().UnixMilli()))
	}
	calHook := func(secret string) int {
		body := []byte(`{"triggerEvent":"PING","createdAt":"2027-03-01T08:00:00.000Z","payload":{}}`)
		return status("calcom-webhook", body, calcom.SignatureHeader, calcom.Sign(body, secret))
	}
	expect := func(step string, want int, got ...int) {
		t.Helper()
		for i, g := range got {
			if g != want {
				t.Fatalf("%s: request %d answered %d, want %d", step, i, g, want)
			}
		}
	}
	ok := func(s int) int { // 2xx → 200, to compare routes with different success codes
		if s >= 200 && s < 300 {
			return http.StatusOK
		}
		return s
	}

	expect("before", http.StatusOK, ok(inCall("key_old_0123456789")), ok(events("key_old_0123456789")), ok(calHook("whsec_old_0123456789")))
	expect("before, new values", http.StatusUnauthorized, inCall("key_new_0123456789"), calHook("whsec_new_0123456789"))

	// Step 1: both values in the secret; the senders still sign with the old.
	put(d.Config.RetellAPIKeySecret, `{"current":"key_new_0123456789","previous":"key_old_0123456789"}`)
	put(d.Config.CalcomWebhookSecret, `{"current":"whsec_new_0123456789","previous":"whsec_old_0123456789"}`)
	expect("cached old value still verifies", http.StatusOK, ok(inCall("key_old_0123456789")), ok(calHook("whsec_old_0123456789")))
	// Step 2: wait for the cache's TTL; now both verify, in every route.
	e.Clock.Advance(ttl + time.Second)
	for _, key := range []string{"key_old_0123456789", "key_new_0123456789"} {
		expect("window, "+key, http.StatusOK, ok(inCall(key)), ok(events(key)), ok(inbound(key)))
	}
	for _, secret := range []string{"whsec_old_0123456789", "whsec_new_0123456789"} {
		expect("window, "+secret, http.StatusOK, ok(calHook(secret)))
	}
	// Step 3 happens at Retell and Cal.com (they sign with the new value).
	// Step 4: end the window; after the TTL the old values stop verifying.
	put(d.Config.RetellAPIKeySecret, `{"current":"key_new_0123456789"}`)
	put(d.Config.CalcomWebhookSecret, "whsec_new_0123456789")
	e.Clock.Advance(ttl + time.Second)
	expect("after, new", http.StatusOK, ok(inCall("key_new_0123456789")), ok(events("key_new_0123456789")), ok(calHook("whsec_new_0123456789")))
	expect("after, old", http.StatusUnauthorized, inCall("key_old_0123456789"), events("key_old_0123456789"), inbound("key_old_0123456789"),
		calHook("whsec_old_0123456789"))
}
