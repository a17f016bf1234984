package mysql

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func TestIdempotency(t *testing.T) {
	s, _, clk := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))

	rec, started, err := s.BeginIdempotent(ctx, "salon-a", "k1", "book", time.Minute)
	if err != nil || !started || rec != nil {
		t.Fatalf("first Begin = %+v %v %v", rec, started, err)
	}
	rec, started, err = s.BeginIdempotent(ctx, "salon-a", "k1", "book", time.Minute)
	if err != nil || started || rec.Status != booking.IdemInProgress {
		t.Fatalf("concurrent Begin = %+v %v %v", rec, started, err)
	}
	_, _, err = s.BeginIdempotent(ctx, "salon-a", "k1", "cancel", time.Minute)
	wantKind(t, err, booking.KindConflict, "key reused for another operation")

	resp := []byte(`{"ok":true,"message":"Gebucht, Frau Musterfrau."}`)
	if err := s.CompleteIdempotent(ctx, "salon-a", "k1", resp); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CompleteIdempotent(ctx, "salon-a", "k1", resp), booking.KindNotFound, "complete twice")
	rec, started, err = s.BeginIdempotent(ctx, "salon-a", "k1", "book", time.Minute)
	if err != nil || started || rec.Status != booking.IdemComplete || string(rec.Response) != string(resp) {
		t.Fatalf("replay = %+v %v %v", rec, started, err)
	}
	// Abandon never removes a complete record.
	if err := s.AbandonIdempotent(ctx, "salon-a", "k1"); err != nil {
		t.Fatal(err)
	}
	if rec, _, _ := s.BeginIdempotent(ctx, "salon-a", "k1", "book", time.Minute); rec == nil || rec.Status != booking.IdemComplete {
		t.Fatal("Abandon removed a complete record")
	}

	// Abandon frees an in-progress claim.
	s.BeginIdempotent(ctx, "salon-a", "k2", "book", time.Minute)
	if err := s.AbandonIdempotent(ctx, "salon-a", "k2"); err != nil {
		t.Fatal(err)
	}
	if _, started, _ := s.BeginIdempotent(ctx, "salon-a", "k2", "book", time.Minute); !started {
		t.Fatal("abandoned key cannot be claimed again")
	}
	// Expired records are taken over.
	clk.Advance(2 * time.Minute)
	if _, started, err := s.BeginIdempotent(ctx, "salon-a", "k1", "book", time.Minute); !started || err != nil {
		t.Fatalf("expired record not taken over: %v", err)
	}

	// The booking.Idempotency adapter.
	idem := s.Idempotency()
	st, _, err := idem.Begin(ctx, "salon-a", "k3", "book", time.Minute)
	if err != nil || st != booking.IdemNew {
		t.Fatalf("adapter Begin = %q %v", st, err)
	}
	if st, _, _ := idem.Begin(ctx, "salon-a", "k3", "book", time.Minute); st != booking.IdemInProgress {
		t.Fatalf("adapter second Begin = %q", st)
	}
	idem.Complete(ctx, "salon-a", "k3", []byte("r"))
	if st, r, _ := idem.Begin(ctx, "salon-a", "k3", "book", time.Minute); st != booking.IdemComplete || string(r) != "r" {
		t.Fatalf("adapter replay = %q %q", st, r)
	}
	wantKind(t, idem.Abandon(ctx, "", "k3"), booking.KindInvalid, "no tenant")
}

func TestReceiptsCallbacksAudit(t *testing.T) {
	s, _, _ := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))

	first, err := s.RecordReceipt(ctx, "retell", "call_ended:call_1", "salon-a")
	if err != nil || !first {
		t.Fatalf("first receipt = %v %v", first, err)
	}
	if again, err := s.RecordReceipt(ctx, "retell", "call_ended:call_1", "salon-a"); err != nil || again {
		t.Fatalf("repeat receipt = %v %v", again, err)
	}
	if other, _ := s.RecordReceipt(ctx, "calcom", "call_ended:call_1", ""); !other {
		t.Fatal("provider is not part of the key")
	}

	cid := int64(7)
	for range 3 {
		if err := s.RecordCallback(ctx, "salon-a", "mitte", "call_1", &cid, "0176 12345678", "cancel_anonymous"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordCallback(ctx, "salon-a", "mitte", "call_2", nil, "anonymous", "cancel_anonymous"); err != nil {
		t.Fatal(err)
	}
	cbs, err := s.OpenCallbacks(ctx, "salon-a", 10)
	if err != nil || len(cbs) != 2 || cbs[0].Phone != "+4917612345678" || *cbs[0].CustomerID != 7 || cbs[1].Phone != "" || cbs[1].CustomerID != nil {
		t.Fatalf("OpenCallbacks = %+v, %v", cbs, err)
	}

	if err := s.AppendAudit(ctx, "salon-a", "admin:ops", "customer.export", "customer:7", "GDPR request", map[string]int{"calls": 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, "salon-a", "privacy", "customer.erase", "customer:8", "", nil); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.AppendAudit(ctx, "salon-a", "", "x", "", "", nil), booking.KindInvalid, "audit without actor")
	entries, err := s.AuditEntries(ctx, "salon-a", "customer:7", 10)
	if err != nil || len(entries) != 1 || entries[0].Action != "customer.export" || entries[0].Reason != "GDPR request" {
		t.Fatalf("AuditEntries = %+v, %v", entries, err)
	}
	var detail map[string]int
	if json.Unmarshal(entries[0].Detail, &detail) != nil || detail["calls"] != 2 {
		t.Fatalf("detail = %s", entries[0].Detail)
	}
	if all, _ := s.AuditEntries(ctx, "salon-a", "", 10); len(all) != 2 {
		t.Fatalf("all entries: %d", len(all))
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
