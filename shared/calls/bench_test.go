package calls

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/retell"
)

// BenchmarkInbound measures call_inbound through the handler (signature,
// decode, routing, caller recognition with an upcoming appointment,
// prefetch gate) on the real MariaDB and Redis: routing from the Redis
// cache, and straight from MySQL.
func BenchmarkInbound(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	cust, err := e.store.UpsertCustomerByPhone(ctx, demoTenant, callerPhone, "Erika Mustermann", "")
	if err != nil {
		b.Fatal(err)
	}
	start := t0.Add(26 * time.Hour)
	if _, err := e.store.CreateAppointment(ctx, booking.Appointment{TenantID: demoTenant, BranchID: demoBranch, ServiceID: "herrenhaarschnitt",
		CustomerID: &cust.ID, Status: booking.StatusConfirmed, Source: "phone", Start: start, End: start.Add(30 * time.Minute)}); err != nil {
		b.Fatal(err)
	}
	body := inboundBody(b, t0, callerPhone, demoNumber)
	sig := retell.Sign(body, apiKey, t0.UnixMilli())
	for _, mode := range []string{"cached", "uncached"} {
		b.Run(mode, func(b *testing.B) {
			in := *e.in
			if mode == "uncached" {
				in.Directory = e.store
			}
			h := e.lambda("retell-inbound", InboundHandler(&in, e.sig))
			if r := post(b, h, "/webhooks/retell/inbound", body, sig); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"caller_known":"true"`) {
				b.Fatalf("warm-up answer %d %s", r.StatusCode, r.Body)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := post(b, h, "/webhooks/retell/inbound", body, sig); r.StatusCode != http.StatusOK {
					b.Fatalf("status %d", r.StatusCode)
				}
			}
		})
	}
}

// BenchmarkCallEnded30KB measures call_ended with a 30 KB transcript
// through the handler: "insert" is a call seen for the first time, "merge"
// one whose call_started is already stored (the usual case).
func BenchmarkCallEnded30KB(b *testing.B) {
	e := newEnv(b)
	transcript := strings.Repeat("Agent: Guten Tag, was kann ich für Sie tun?\nUser: Ich hätte gern einen Termin.\n", 30<<10/80)
	for _, mode := range []string{"insert", "merge"} {
		b.Run(mode, func(b *testing.B) {
			h := e.eventsHandler()
			bodies := make([][]byte, b.N)
			sigs := make([]string, b.N)
			for i := range bodies {
				id := fmt.Sprintf("call_bench_%s_%d", mode, i)
				m := sample(b, "call_ended")
				callOf(m)["call_id"] = id
				callOf(m)["transcript"] = transcript
				bodies[i] = encode(b, m)
				sigs[i] = retell.Sign(bodies[i], apiKey, t0.UnixMilli())
				if mode == "merge" {
					s := sample(b, "call_started")
					callOf(s)["call_id"] = id
					sb := encode(b, s)
					if r := post(b, h, "/webhooks/retell/events", sb, retell.Sign(sb, apiKey, t0.UnixMilli())); r.StatusCode != http.StatusNoContent {
						b.Fatalf("call_started: %d %s", r.StatusCode, r.Body)
					}
				}
			}
			if len(bodies[0]) < 30<<10 {
				b.Fatalf("body only %d bytes", len(bodies[0]))
			}
			b.SetBytes(int64(len(bodies[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := post(b, h, "/webhooks/retell/events", bodies[i], sigs[i]); r.StatusCode != http.StatusNoContent {
					b.Fatalf("status %d %s", r.StatusCode, r.Body)
				}
			}
		})
	}
}
