package privacy_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/privacy"
)

const (
	phoneA = "+4915112345678"
	phoneB = "+4917099988877"
	phoneC = "+4930555666777"
)

// world: customer A and B and unlinked caller C in the demo tenant; in the
// other tenant a different person with A's number.
type world struct {
	*env
	a, b, c, a2 *person
}

func newWorld(t *testing.T) *world {
	e := newEnv(t)
	w := &world{env: e}
	w.a = e.seedCustomer(t, e.demo, "A", phoneA, "Erika Mustermann", "erika@example.org")
	w.b = e.seedCustomer(t, e.demo, "B", phoneB, "Max Beispiel", "max@example.com")
	w.c = e.seedCaller(t, e.demo, "C", phoneC)
	w.a2 = e.seedCustomer(t, e.other, "A2", phoneA, "Erika Anders", "erika.anders@example.net")
	return w
}

func callIDs(exp *mysql.CustomerExport) []string {
	var ids []string
	for _, c := range exp.Calls {
		ids = append(ids, c.CallID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func containsAny(hay string, needles []string) string {
	for _, n := range needles {
		if strings.Contains(hay, n) {
			return n
		}
	}
	return ""
}

func TestExportReturnsExactlyThePerson(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	demo := w.demo.Tenant.ID
	actor := privacy.AdminActor("alice")

	exp, err := w.svc.ExportCustomer(ctx, demo, w.a.customerID, actor)
	mustNil(t, err, "export A")
	if exp.Customer == nil || exp.Customer.Name != "Erika Mustermann" || exp.Customer.Phone != phoneA || exp.Customer.Email != "erika@example.org" {
		t.Fatalf("customer = %+v", exp.Customer)
	}
	if got, want := callIDs(exp), sorted(w.a.callIDs); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v (the linked call and the earlier unlinked one from the number)", got, want)
	}
	for _, c := range exp.Calls {
		if !strings.Contains(c.Transcript, "Geheimsatz A") || c.Summary == "" || c.FromNumber != phoneA || c.RecordingURL == "" {
			t.Fatalf("call %s not fully decrypted: %+v", c.CallID, c)
		}
	}
	if len(exp.Appointments) != 3 {
		t.Fatalf("appointments = %d, want 3", len(exp.Appointments))
	}
	for _, a := range exp.Appointments {
		if a.Notes != "Notiz A: Allergie" {
			t.Fatalf("appointment %d notes = %q", a.ID, a.Notes)
		}
	}
	if len(exp.Appointments[2].Segments) != 2 {
		t.Fatalf("composite appointment segments = %+v", exp.Appointments[2].Segments)
	}
	if len(exp.AppointmentChanges) != 1 || exp.AppointmentChanges[0].Action != "booked" {
		t.Fatalf("changes = %+v", exp.AppointmentChanges)
	}
	if len(exp.CallbackRequests) != 2 {
		t.Fatalf("callbacks = %+v, want the linked one and the one of the unlinked call", exp.CallbackRequests)
	}
	for _, cb := range exp.CallbackRequests {
		if cb.Phone != phoneA {
			t.Fatalf("callback phone = %q", cb.Phone)
		}
	}
	js, _ := json.Marshal(exp)
	foreign := append(append(slices.Clone(w.b.secrets), w.c.secrets...), "Erika Anders", "erika.anders@example.net", "Geheimsatz A2")
	if s := containsAny(string(js), foreign); s != "" {
		t.Fatalf("export of A contains another person's data %q", s)
	}

	// By phone: the same person.
	byPhone, err := w.svc.ExportByPhone(ctx, demo, "0151 12345678", actor)
	mustNil(t, err, "export by phone")
	if byPhone.Customer == nil || byPhone.Customer.ID != w.a.customerID || !slices.Equal(callIDs(byPhone), callIDs(exp)) {
		t.Fatalf("by phone = customer %+v calls %v", byPhone.Customer, callIDs(byPhone))
	}

	// The same number in the other tenant is another person.
	other, err := w.svc.ExportByPhone(ctx, otherTenant, phoneA, actor)
	mustNil(t, err, "export other tenant")
	if other.Customer == nil || other.Customer.Name != "Erika Anders" || !slices.Equal(callIDs(other), sorted(w.a2.callIDs)) {
		t.Fatalf("other tenant export = %+v %v", other.Customer, callIDs(other))
	}
	js, _ = json.Marshal(other)
	if s := containsAny(string(js), []string{"Erika Mustermann", "Geheimsatz A.", "Notiz A:"}); s != "" {
		t.Fatalf("other tenant's export contains demo data %q", s)
	}

	// A caller who never became a customer.
	anon, err := w.svc.ExportByPhone(ctx, demo, phoneC, actor)
	mustNil(t, err, "export caller")
	if anon.Customer != nil || !slices.Equal(callIDs(anon), w.c.callIDs) || len(anon.CallbackRequests) != 1 || len(anon.Appointments) != 0 {
		t.Fatalf("caller export = %+v calls %v callbacks %d", anon.Customer, callIDs(anon), len(anon.CallbackRequests))
	}

	// Not found: unknown id, A's id in the other tenant, a number never seen.
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"unknown id", func() error { _, err := w.svc.ExportCustomer(ctx, demo, 999999, actor); return err }()},
		{"id of another tenant", func() error { _, err := w.svc.ExportCustomer(ctx, otherTenant, w.a.customerID, actor); return err }()},
		{"unknown number", func() error { _, err := w.svc.ExportByPhone(ctx, demo, "+4989000111222", actor); return err }()},
	} {
		if booking.KindOf(tc.err) != booking.KindNotFound {
			t.Fatalf("%s: err = %v, want NotFound", tc.name, tc.err)
		}
	}
	if _, err := w.svc.ExportByPhone(ctx, demo, "anonymous", actor); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("anonymous number: err = %v, want Invalid", err)
	}

	// Every successful export is audited, without PII.
	entries, err := w.store.AuditEntries(ctx, demo, "customer:"+strconv.FormatInt(w.a.customerID, 10), 0)
	mustNil(t, err, "audit")
	if len(entries) != 2 {
		t.Fatalf("audit entries for A = %d, want 2 (by id, by phone)", len(entries))
	}
	for _, en := range entries {
		if en.Action != mysql.AuditActionExport || en.Actor != actor {
			t.Fatalf("audit entry = %+v", en)
		}
	}
	callerEntries, _ := w.store.AuditEntries(ctx, demo, "caller", 0)
	otherEntries, _ := w.store.AuditEntries(ctx, otherTenant, "", 0)
	if len(callerEntries) != 1 || len(otherEntries) != 1 {
		t.Fatalf("caller audit = %d, other tenant audit = %d, want 1 and 1", len(callerEntries), len(otherEntries))
	}
	all, _ := w.store.AuditEntries(ctx, demo, "", 0)
	js, _ = json.Marshal(all)
	if s := containsAny(string(js), append(slices.Clone(w.a.secrets), w.c.secrets...)); s != "" {
		t.Fatalf("audit log holds personal data %q", s)
	}
}

// stats are the anonymous statistics that must survive an erasure.
type stats struct {
	Calls, Appointments, DurationMS, CustomerCents, RetellCents, BilledMinutes, Changes int64
}

func (e *env) stats(t *testing.T, tenant string) stats {
	t.Helper()
	var s stats
	mustNil(t, e.db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(duration_ms),0), COALESCE(SUM(customer_cost_eur_cents),0),
		COALESCE(SUM(retell_cost_usd_cents),0), COALESCE(SUM(billed_minutes),0) FROM calls WHERE tenant_id = ?`, tenant).
		Scan(&s.Calls, &s.DurationMS, &s.CustomerCents, &s.RetellCents, &s.BilledMinutes), "call stats")
	mustNil(t, e.db.QueryRow(`SELECT COUNT(*) FROM appointments WHERE tenant_id = ?`, tenant).Scan(&s.Appointments), "appt stats")
	return s
}

func TestEraseLeavesNothingDecryptable(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	demo := w.demo.Tenant.ID
	actor := privacy.AdminActor("alice")

	before := w.dumpTenant(t, demo)
	for _, s := range w.a.secrets {
		if !strings.Contains(before, s) {
			t.Fatalf("scan does not see %q before the erasure: the scan is broken", s)
		}
	}
	if n := w.indexHits(t, demo, phoneA, "erika@example.org"); n != 3 {
		t.Fatalf("blind index rows before = %d, want 3 (customer, two calls)", n)
	}
	statsBefore := w.stats(t, demo)

	res, err := w.svc.EraseCustomer(ctx, demo, w.a.customerID, actor, "Anfrage per Brief vom 1.3., Rückruf an 0151 12345678")
	mustNil(t, err, "erase")
	if res.AlreadyErased || res.Calls != 2 || res.Appointments != 3 || res.CallbackRequests != 2 || res.IdempotencyRecords != 1 {
		t.Fatalf("erasure = %+v", res.Erasure)
	}
	if !res.Complete() || !slices.Equal(sorted64(res.Cancelled), sorted64(w.a.futureIDs)) {
		t.Fatalf("cancelled = %v pending = %v, want %v", res.Cancelled, res.Pending, w.a.futureIDs)
	}

	after := w.dumpTenant(t, demo)
	if s := containsAny(after, w.a.secrets); s != "" {
		t.Fatalf("after erasure the database still holds %q", s)
	}
	if n := w.indexHits(t, demo, phoneA, "erika@example.org"); n != 0 {
		t.Fatalf("blind index rows after = %d", n)
	}
	for _, s := range append(slices.Clone(w.b.secrets), w.c.secrets...) {
		if !strings.Contains(after, s) {
			t.Fatalf("erasure of A destroyed another person's %q", s)
		}
	}
	if s := containsAny(w.dumpTenant(t, otherTenant), []string{"Erika Anders", "Geheimsatz A2"}); s == "" {
		t.Fatal("erasure in demo touched the other tenant")
	}
	if statsAfter := w.stats(t, demo); statsAfter != statsBefore {
		t.Fatalf("statistics changed: before %+v after %+v", statsBefore, statsAfter)
	}

	// Future bookings cancelled in Cal.com and here; the past one untouched.
	for _, uid := range w.a.futureUIDs {
		if b, _ := w.sb.Booking(uid); b.Status != calcom.StatusCancelled || b.CancellationReason != privacy.CancelReason {
			t.Fatalf("future booking %s status %q reason %q", uid, b.Status, b.CancellationReason)
		}
	}
	if b, _ := w.sb.Booking(w.a.pastUID); b.Status != calcom.StatusAccepted {
		t.Fatalf("past booking status = %q", b.Status)
	}
	for _, id := range w.a.futureIDs {
		a, err := w.store.GetAppointment(ctx, demo, id)
		mustNil(t, err, "appointment")
		if a.Status != booking.StatusCancelled || a.Notes != "" {
			t.Fatalf("appointment %d after erasure: %s %q", id, a.Status, a.Notes)
		}
	}
	var cancelChanges int
	mustNil(t, w.db.QueryRow(`SELECT COUNT(*) FROM appointment_changes WHERE tenant_id = ? AND action = 'cancelled' AND policy_outcome = 'erasure' AND actor = ?`,
		demo, actor).Scan(&cancelChanges), "changes")
	if cancelChanges != len(w.a.futureIDs) {
		t.Fatalf("cancel changes = %d", cancelChanges)
	}

	// The customer row stays as an erased shell; lookups no longer find it.
	if _, err := w.store.GetCustomer(ctx, demo, w.a.customerID); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("GetCustomer after erasure: %v", err)
	}
	exp, err := w.svc.ExportCustomer(ctx, demo, w.a.customerID, actor)
	mustNil(t, err, "export erased")
	if exp.Customer.ErasedAt == nil || exp.Customer.Name != "" || len(exp.Calls) != 1 || exp.Calls[0].Transcript != "" {
		// Only the linked call still names the customer; the unlinked one is anonymous now.
		t.Fatalf("export after erasure = %+v calls %+v", exp.Customer, exp.Calls)
	}

	// A second erase is a no-op that says so.
	again, err := w.svc.EraseCustomer(ctx, demo, w.a.customerID, actor, "Wiederholung")
	mustNil(t, err, "erase again")
	if !again.AlreadyErased || again.Calls != 0 || len(again.Cancelled) != 0 || len(again.Pending) != 0 || len(again.FutureBookings) != 0 {
		t.Fatalf("second erasure = %+v", again)
	}
	if w.dumpTenant(t, demo) == "" || w.stats(t, demo) != statsBefore {
		t.Fatal("second erasure changed something")
	}

	// Audit: one row per erasure, reason with the number masked.
	entries, err := w.store.AuditEntries(ctx, demo, "customer:"+strconv.FormatInt(w.a.customerID, 10), 0)
	mustNil(t, err, "audit")
	var erasures []mysql.AuditEntry
	for _, en := range entries {
		if en.Action == mysql.AuditActionErase {
			erasures = append(erasures, en)
		}
	}
	if len(erasures) != 2 || erasures[0].Actor != actor || !strings.Contains(string(erasures[0].Detail), `"already_erased": true`) &&
		!strings.Contains(string(erasures[0].Detail), `"already_erased":true`) {
		t.Fatalf("erasure audit rows = %+v", erasures)
	}
	if strings.Contains(erasures[1].Reason, "12345678") || !strings.Contains(erasures[1].Reason, "Anfrage per Brief") {
		t.Fatalf("audit reason = %q", erasures[1].Reason)
	}

	// Unknown customer.
	if _, err := w.svc.EraseCustomer(ctx, demo, 999999, actor, "x"); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("erase unknown: %v", err)
	}
	if _, err := w.svc.EraseCustomer(ctx, otherTenant, w.b.customerID, actor, "x"); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("erase across tenants: %v", err)
	}
}

func sorted64(s []int64) []int64 { s = slices.Clone(s); slices.Sort(s); return s }

func TestEraseRetriesFailedCancellations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	demo := e.demo.Tenant.ID
	p := e.seedCustomer(t, e.demo, "R", phoneB, "Rita Retry", "rita@example.org")
	e.sb.FailNext(calcomtest.RouteCancel, 1, 503)

	res, err := e.svc.EraseCustomer(ctx, demo, p.customerID, "admin:bob", "Anfrage")
	mustNil(t, err, "erase")
	if res.Complete() || len(res.Pending) != 1 || res.Pending[0].Kind != booking.KindTransient || len(res.Cancelled) != 1 {
		t.Fatalf("first erase: cancelled %v pending %+v", res.Cancelled, res.Pending)
	}
	// The personal data is gone already.
	if s := containsAny(e.dumpTenant(t, demo), p.secrets); s != "" {
		t.Fatalf("data left after an erase with a failed cancel: %q", s)
	}
	pendingID := res.Pending[0].AppointmentID
	a, _ := e.store.GetAppointment(ctx, demo, pendingID)
	if !a.Status.Active() {
		t.Fatalf("appointment whose cancel failed is %s", a.Status)
	}

	again, err := e.svc.EraseCustomer(ctx, demo, p.customerID, "admin:bob", "Anfrage")
	mustNil(t, err, "retry")
	if !again.AlreadyErased || !again.Complete() || !slices.Equal(again.Cancelled, []int64{pendingID}) {
		t.Fatalf("retry: %+v", again)
	}
	for _, uid := range p.futureUIDs {
		if b, _ := e.sb.Booking(uid); b.Status != calcom.StatusCancelled {
			t.Fatalf("booking %s still %s", uid, b.Status)
		}
	}
	third, err := e.svc.EraseCustomer(ctx, demo, p.customerID, "admin:bob", "Anfrage")
	mustNil(t, err, "third")
	if !third.AlreadyErased || len(third.Cancelled)+len(third.Pending)+len(third.FutureBookings) != 0 {
		t.Fatalf("third erase not a no-op: %+v", third)
	}
}

func TestEraseCallerWithoutCustomer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	demo := w.demo.Tenant.ID
	statsBefore := w.stats(t, demo)
	res, err := w.svc.EraseCaller(ctx, demo, phoneC, "admin:alice", "Anfrage")
	mustNil(t, err, "erase caller")
	if res.CustomerID != 0 || res.Calls != 1 || res.CallbackRequests != 1 || !res.Complete() {
		t.Fatalf("caller erasure = %+v", res)
	}
	if s := containsAny(w.dumpTenant(t, demo), w.c.secrets); s != "" {
		t.Fatalf("caller data left: %q", s)
	}
	if w.stats(t, demo) != statsBefore {
		t.Fatal("statistics changed")
	}
	if _, err := w.svc.EraseCaller(ctx, demo, phoneC, "admin:alice", "Anfrage"); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("second caller erase: %v", err)
	}
	// By phone with a customer behind the number: the customer is erased.
	res, err = w.svc.EraseCaller(ctx, demo, phoneB, "admin:alice", "Anfrage")
	mustNil(t, err, "erase B by phone")
	if res.CustomerID != w.b.customerID || res.Calls != 2 {
		t.Fatalf("B by phone = %+v", res)
	}
	entries, _ := w.store.AuditEntries(ctx, demo, "caller", 0)
	if len(entries) != 1 || entries[0].Action != mysql.AuditActionErase {
		t.Fatalf("caller audit = %+v", entries)
	}
}
