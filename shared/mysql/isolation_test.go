package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// TestTenantIsolation gives two tenants the same-looking data and checks
// that every tenant-scoped Store method, asked as tenant B, neither sees nor
// changes tenant A's rows. A new exported method must be added here: the
// test fails when the method list changes.
func TestTenantIsolation(t *testing.T) {
	s, _, _ := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	mustApply(t, s, demoConfig("salon-b", "+4930999999", 2000))
	const A, B = "salon-a", "salon-b"
	const caller = "+4917612345678"

	exercised := map[string]bool{}
	use := func(names ...string) {
		for _, n := range names {
			exercised[n] = true
		}
	}

	// --- A's data.
	ca, err := s.UpsertCustomerByPhone(ctx, A, caller, "Erika A", "erika@example.com")
	if err != nil {
		t.Fatal(err)
	}
	st, _, _ := callEvents(A, "call_a")
	st.CustomerID = &ca.ID
	if _, err := s.UpsertCall(ctx, st); err != nil {
		t.Fatal(err)
	}
	appt, err := s.CreateAppointment(ctx, composite(A, ca.ID, t0.Add(72*time.Hour), "idem-a", "uid-a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordChange(ctx, booking.AppointmentChange{TenantID: A, AppointmentID: appt.ID, Action: "cancelled", Actor: "calcom"}); err != nil {
		t.Fatal(err)
	}
	s.BeginIdempotent(ctx, A, "key-a", "book", time.Hour)
	s.CompleteIdempotent(ctx, A, "key-a", []byte("A's answer"))
	s.RecordCallback(ctx, A, "mitte", "call_a", &ca.ID, caller, "cancel_anonymous")
	s.AppendAudit(ctx, A, "admin:x", "customer.export", "customer:1", "", nil)

	// --- B asks for the same things.
	use("FindCustomerByPhone", "FindCustomerByEmail", "GetCustomer")
	_, err = s.FindCustomerByPhone(ctx, B, caller)
	wantKind(t, err, booking.KindNotFound, "B FindCustomerByPhone")
	_, err = s.FindCustomerByEmail(ctx, B, "erika@example.com")
	wantKind(t, err, booking.KindNotFound, "B FindCustomerByEmail")
	_, err = s.GetCustomer(ctx, B, ca.ID)
	wantKind(t, err, booking.KindNotFound, "B GetCustomer")

	use("UpsertCustomerByPhone", "CreateCustomer")
	cb, err := s.UpsertCustomerByPhone(ctx, B, caller, "Erika B", "")
	if err != nil || cb.ID == ca.ID {
		t.Fatalf("B's upsert of the same number: %+v %v", cb, err)
	}
	if c, _ := s.GetCustomer(ctx, A, ca.ID); c.Name != "Erika A" {
		t.Fatalf("B's upsert renamed A's customer: %q", c.Name)
	}
	if c, err := s.CreateCustomer(ctx, booking.Customer{TenantID: B, Email: "erika@example.com"}); err != nil || c.TenantID != B {
		t.Fatalf("B CreateCustomer: %+v %v", c, err)
	}

	use("GetCall", "UpsertCall")
	_, err = s.GetCall(ctx, B, "call_a")
	wantKind(t, err, booking.KindNotFound, "B GetCall")
	stB := st
	stB.TenantID = B
	_, err = s.UpsertCall(ctx, stB)
	wantKind(t, err, booking.KindConflict, "B UpsertCall on A's call id")

	use("GetAppointment", "AppointmentByCalcomUID", "AppointmentByIdempotencyKey", "UpcomingAppointments", "AppointmentsBetween", "CountUpcomingAppointments",
		"CountCancellationsSince", "UpdateAppointment", "UpdateAppointmentWithChanges", "RecordChange", "CreateAppointment")
	_, err = s.GetAppointment(ctx, B, appt.ID)
	wantKind(t, err, booking.KindNotFound, "B GetAppointment")
	_, err = s.AppointmentByCalcomUID(ctx, B, "uid-a")
	wantKind(t, err, booking.KindNotFound, "B AppointmentByCalcomUID")
	_, err = s.AppointmentByCalcomUID(ctx, B, "uid-a-2")
	wantKind(t, err, booking.KindNotFound, "B AppointmentByCalcomUID(segment)")
	_, err = s.AppointmentByIdempotencyKey(ctx, B, "idem-a")
	wantKind(t, err, booking.KindNotFound, "B AppointmentByIdempotencyKey")
	if up, err := s.UpcomingAppointments(ctx, B, ca.ID, t0, 10); err != nil || len(up) != 0 {
		t.Fatalf("B UpcomingAppointments with A's customer id: %+v %v", up, err)
	}
	if got, err := s.AppointmentsBetween(ctx, B, ca.ID, t0, t0.Add(30*24*time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("B AppointmentsBetween with A's customer id: %+v %v", got, err)
	}
	if n, err := s.CountUpcomingAppointments(ctx, B, ca.ID, t0); err != nil || n != 0 {
		t.Fatalf("B CountUpcomingAppointments with A's customer id = %d %v", n, err)
	}
	if n, err := s.CountCancellationsSince(ctx, B, ca.ID, t0.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("B CountCancellationsSince = %d %v", n, err)
	}
	_, err = s.UpdateAppointment(ctx, B, appt.ID, func(a *booking.Appointment) (*booking.Appointment, error) {
		t.Error("fn called with A's appointment")
		a.Status = booking.StatusCancelled
		return a, nil
	})
	wantKind(t, err, booking.KindNotFound, "B UpdateAppointment")
	_, err = s.UpdateAppointmentWithChanges(ctx, B, appt.ID, func(a *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		return a, nil, nil
	})
	wantKind(t, err, booking.KindNotFound, "B UpdateAppointmentWithChanges")
	wantKind(t, s.RecordChange(ctx, booking.AppointmentChange{TenantID: B, AppointmentID: appt.ID, Action: "x", Actor: "y", After: map[string]string{}}), booking.KindNotFound, "B RecordChange on A's appointment")
	if n, _ := s.CountCancellationsSince(ctx, B, ca.ID, t0.Add(-time.Hour)); n != 0 {
		t.Fatal("B's change row counted against A's appointment")
	}
	dupB, err := s.CreateAppointment(ctx, composite(B, cb.ID, t0.Add(72*time.Hour), "idem-a", "uid-b"))
	if err != nil || dupB.ID == appt.ID {
		t.Fatalf("B may use the same idempotency key: %+v %v", dupB, err)
	}
	ex, err := s.CreateAppointment(ctx, composite(B, cb.ID, t0.Add(72*time.Hour), "idem-b2", "uid-a"))
	wantKind(t, err, booking.KindConflict, "B reusing A's Cal.com uid")
	if ex != nil {
		t.Fatalf("B got A's appointment back: %+v", ex)
	}
	if a, _ := s.GetAppointment(ctx, A, appt.ID); a.Status != booking.StatusConfirmed {
		t.Fatal("A's appointment changed")
	}

	use("BeginIdempotent", "CompleteIdempotent", "AbandonIdempotent", "Idempotency")
	rec, started, err := s.BeginIdempotent(ctx, B, "key-a", "book", time.Hour)
	if err != nil || !started || rec != nil {
		t.Fatalf("B sees A's idempotency record: %+v %v %v", rec, started, err)
	}
	if err := s.CompleteIdempotent(ctx, B, "key-a", []byte("B's answer")); err != nil {
		t.Fatal(err)
	}
	if err := s.AbandonIdempotent(ctx, B, "key-a"); err != nil {
		t.Fatal(err)
	}
	if st, r, _ := s.Idempotency().Begin(ctx, A, "key-a", "book", time.Hour); st != booking.IdemComplete || string(r) != "A's answer" {
		t.Fatalf("A's record after B's calls: %q %q", st, r)
	}

	use("RecordCallback", "OpenCallbacks", "AppendAudit", "AuditEntries", "RecordReceipt")
	if cbs, _ := s.OpenCallbacks(ctx, B, 10); len(cbs) != 0 {
		t.Fatalf("B sees A's callbacks: %+v", cbs)
	}
	if err := s.RecordCallback(ctx, B, "mitte", "call_a", nil, caller, "cancel_anonymous"); err != nil {
		t.Fatal(err)
	}
	if cbs, _ := s.OpenCallbacks(ctx, A, 10); len(cbs) != 1 || *cbs[0].CustomerID != ca.ID {
		t.Fatalf("A's callbacks after B's: %+v", cbs)
	}
	if es, _ := s.AuditEntries(ctx, B, "", 10); len(es) != 0 {
		t.Fatalf("B sees A's audit: %+v", es)
	}
	s.AppendAudit(ctx, B, "admin:y", "x", "customer:1", "", nil)
	if es, _ := s.AuditEntries(ctx, A, "customer:1", 10); len(es) != 1 || es[0].Actor != "admin:x" {
		t.Fatalf("A's audit after B's: %+v", es)
	}
	// Receipts are keyed by the provider's event: the same event for two
	// tenants is one event.
	if first, _ := s.RecordReceipt(ctx, "retell", "e1", A); !first {
		t.Fatal("receipt")
	}

	use("ApplyTenantConfig", "LoadTenantConfig", "ResolveNumber", "Services", "ServiceByEventType")
	if svcs, _ := s.Services(ctx, B, "mitte"); len(svcs) != 3 || svcs[0].TenantID != B || svcs[0].EventTypeID != 2001 {
		t.Fatalf("B's services: %+v", svcs)
	}
	if tid, _, _ := s.ServiceByEventType(ctx, 2003); tid != B {
		t.Fatalf("event type 2003 → %q", tid)
	}
	if p, _, _, _ := s.ResolveNumber(ctx, "+4930999999"); p.TenantID != B {
		t.Fatalf("B's number → %q", p.TenantID)
	}
	if cfg, _ := s.LoadTenantConfig(ctx, B); cfg.PhoneNumbers[0].E164 != "+4930999999" || cfg.Services[0].EventTypeID < 2000 {
		t.Fatalf("B's config: %+v", cfg)
	}

	// Privacy: B can neither export nor erase A's customer, by id or number.
	use("ExportCustomer", "ExportByPhone", "EraseCustomer", "EraseCaller")
	_, err = s.ExportCustomer(ctx, B, ca.ID)
	wantKind(t, err, booking.KindNotFound, "B ExportCustomer")
	if ex, err := s.ExportByPhone(ctx, B, caller); err == nil {
		js, _ := json.Marshal(ex)
		if strings.Contains(string(js), "Erika A") || strings.Contains(string(js), "uid-a") || strings.Contains(string(js), "call_a") {
			t.Fatalf("B ExportByPhone sees A's data: %s", js)
		}
	}
	_, err = s.EraseCustomer(ctx, B, ca.ID, "admin:b", "test")
	wantKind(t, err, booking.KindNotFound, "B EraseCustomer")
	if er, err := s.EraseCaller(ctx, B, caller, "admin:b", "test"); err == nil && er != nil && er.Calls > 0 {
		t.Fatalf("B EraseCaller touched A's calls: %+v", er)
	}
	if c, err := s.GetCustomer(ctx, A, ca.ID); err != nil || c.Name != "Erika A" {
		t.Fatalf("A's customer changed by B's erase attempts: %v", err)
	}

	callBefore, err := s.GetCall(ctx, A, "call_a")
	if err != nil {
		t.Fatal(err)
	}
	// Retention and usage queries of B (with zero-day periods, so anything
	// of B's would be due) leave A's rows alone and count none of them.
	use("ListTenants", "PurgeCallContent", "AnonymizeOldCallers", "InactiveCustomers", "PurgeIdempotencyRecords",
		"PurgeWebhookReceipts", "PurgeExpiredAudit", "MinutesUsedSince", "MinutesUsedBefore", "TenantIDs",
		"ActiveAppointmentsBetween", "ReceiptSeen", "ReceiptKeysWithPrefix")
	if ts, err := s.ListTenants(ctx); err != nil || len(ts) != 2 {
		t.Fatalf("ListTenants = %d, %v", len(ts), err)
	}
	if ids, err := s.TenantIDs(ctx); err != nil || len(ids) != 2 {
		t.Fatalf("TenantIDs = %v, %v", ids, err)
	}
	if n, _ := s.PurgeCallContent(ctx, B, 0, 10); n != 0 {
		t.Fatalf("B PurgeCallContent purged %d", n)
	}
	if n, m, _ := s.AnonymizeOldCallers(ctx, B, 0, 10); n+m != 0 {
		t.Fatalf("B AnonymizeOldCallers touched %d/%d", n, m)
	}
	if ids, _ := s.InactiveCustomers(ctx, B, 0, 10); len(ids) != 0 {
		t.Fatalf("B InactiveCustomers = %v", ids)
	}
	if n, _ := s.PurgeIdempotencyRecords(ctx, B, 0, 10); n != 0 {
		t.Fatalf("B PurgeIdempotencyRecords = %d", n)
	}
	if n, _ := s.PurgeWebhookReceipts(ctx, B, 0, 10); n != 0 {
		t.Fatalf("B PurgeWebhookReceipts = %d", n)
	}
	if n, err := s.PurgeExpiredAudit(ctx, B, 0, 10); err == nil && n != 0 {
		t.Fatalf("B PurgeExpiredAudit = %d", n)
	}
	if n, _ := s.MinutesUsedSince(ctx, B, "", t0.Add(-24*time.Hour)); n != 0 {
		t.Fatalf("B MinutesUsedSince = %d", n)
	}
	if n, _ := s.MinutesUsedBefore(ctx, B, "call_x", t0.Add(-24*time.Hour), t0.Add(24*time.Hour)); n != 0 {
		t.Fatalf("B MinutesUsedBefore = %d", n)
	}
	as, _ := s.ActiveAppointmentsBetween(ctx, B, t0, t0.Add(30*24*time.Hour), 10)
	for _, a := range as {
		if a.TenantID != B || a.CalcomUID == "uid-a" {
			t.Fatalf("B ActiveAppointmentsBetween returned A's appointment %d", a.ID)
		}
	}
	if after, err := s.GetCall(ctx, A, "call_a"); err != nil || after.Transcript != callBefore.Transcript || after.FromNumber != callBefore.FromNumber {
		t.Fatal("A's call content was changed by B's retention")
	}
	s.ReceiptSeen(ctx, "calcom", "none")
	s.ReceiptKeysWithPrefix(ctx, "calcom", "none")
	// Signature claims are global on purpose (the Retell key signs for every
	// tenant): a signature A used cannot act for B's calls.
	use("ClaimSignature")
	if ok, err := s.ClaimSignature(ctx, A, "1.ab", "call_a"); err != nil || !ok {
		t.Fatalf("A ClaimSignature: %v %v", ok, err)
	}
	if ok, _ := s.ClaimSignature(ctx, B, "1.ab", "call_b"); ok {
		t.Fatal("B reused A's signature")
	}

	use("Ping", "DB")
	if s.DB() == nil || s.Ping(ctx) != nil {
		t.Fatal("Ping")
	}

	// Every exported method was exercised above (and none updates or
	// deletes audit rows).
	var missing []string
	typ := reflect.TypeOf(s)
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if strings.Contains(name, "Audit") && name != "AppendAudit" && name != "AuditEntries" && name != "PurgeExpiredAudit" { // PurgeExpiredAudit: only rows past 7 years (privacy_audit_test.go)
			t.Errorf("method %s touches the append-only audit log", name)
		}
		if !exercised[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("Store methods not covered by the isolation test: %v", missing)
	}
}

// TestNoPlaintextPIIAtRest stores every kind of personal data through the
// Store, then reads every column of every table raw and finds none of the
// plaintexts (in any common spelling of the phone number).
func TestNoPlaintextPIIAtRest(t *testing.T) {
	s, db, _ := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	const (
		name    = "Erika Musterfrau"
		email   = "erika.musterfrau@example.com"
		number  = "+4917612345678"
		notes   = "Allergie gegen Ammoniak"
		secret2 = "Quittenbrot"
	)
	c, err := s.UpsertCustomerByPhone(ctx, "salon-a", number, name, email)
	if err != nil {
		t.Fatal(err)
	}
	s.CreateCustomer(ctx, booking.Customer{TenantID: "salon-a", Name: "Max Quittenbrot", Email: "max@quittenbrot.example"})
	st, en, an := callEvents("salon-a", "call_pii")
	for _, e := range []booking.Call{st, en, an} {
		e.CustomerID = &c.ID
		if _, err := s.UpsertCall(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	a := composite("salon-a", c.ID, t0.Add(72*time.Hour), "k", "u")
	a.Notes = notes
	if _, err := s.CreateAppointment(ctx, a); err != nil {
		t.Fatal(err)
	}
	s.RecordCallback(ctx, "salon-a", "mitte", "call_pii", &c.ID, number, "callback")
	s.BeginIdempotent(ctx, "salon-a", "k", "book", time.Hour)
	s.CompleteIdempotent(ctx, "salon-a", "k", []byte(`{"message":"Danke, Erika Musterfrau"}`))

	plaintexts := []string{name, "Musterfrau", email, "erika.musterfrau", number, "17612345678", "0176 12345678", "12345678",
		notes, "Ammoniak", secret2, "Hier ist Erika", "hat einen Damenhaarschnitt gebucht"}
	tables := []string{}
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	scanned := 0
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM `" + table + "`")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				scanned++
				for _, p := range plaintexts {
					if bytes.Contains(bytes.ToLower(v), bytes.ToLower([]byte(p))) {
						t.Errorf("%s.%s holds %q in clear", table, cols[i], p)
					}
				}
			}
		}
		rows.Close()
	}
	if scanned < 100 {
		t.Fatalf("only %d values scanned: the test looked at nothing", scanned)
	}
	// And it all decrypts back.
	call, err := s.GetCall(ctx, "salon-a", "call_pii")
	if err != nil || call.FromNumber != number || !strings.Contains(call.Transcript, "Hier ist Erika") || call.Summary == "" {
		t.Fatalf("GetCall = %+v %v", call, err)
	}
}
