package mysql

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func TestAppointmentsBetweenAndCount(t *testing.T) {
	s, _, _ := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	mustApply(t, s, demoConfig("salon-b", "+4930654321", 2000))
	cust, _ := s.UpsertCustomerByPhone(ctx, "salon-a", "+4917612345678", "Erika", "")
	stranger, _ := s.UpsertCustomerByPhone(ctx, "salon-a", "+4917699999999", "Max", "")
	custB, _ := s.UpsertCustomerByPhone(ctx, "salon-b", "+4917612345678", "Erika", "")
	mk := func(tid string, c int64, start time.Time, key string, st booking.AppointmentStatus) int64 {
		a, err := s.CreateAppointment(ctx, booking.Appointment{TenantID: tid, BranchID: "mitte", ServiceID: "herren", CustomerID: &c,
			Status: st, Source: "phone", Start: start, End: start.Add(30 * time.Minute), IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	var ids []int64
	for i := 0; i < 60; i++ { // one a day for 60 days, at 10:00 UTC
		ids = append(ids, mk("salon-a", cust.ID, t0.Add(time.Duration(i)*24*time.Hour+time.Hour), "k"+strconv.Itoa(i), booking.StatusConfirmed))
	}
	day50 := t0.Add(49 * 24 * time.Hour).Truncate(24 * time.Hour)
	cancelled := mk("salon-a", cust.ID, day50.Add(15*time.Hour), "kc", booking.StatusCancelled)
	mk("salon-a", stranger.ID, day50.Add(11*time.Hour), "ks", booking.StatusConfirmed)
	mk("salon-b", custB.ID, day50.Add(12*time.Hour), "kb", booking.StatusConfirmed)

	got, err := s.AppointmentsBetween(ctx, "salon-a", cust.ID, day50, day50.Add(24*time.Hour))
	if err != nil || len(got) != 1 || got[0].ID != ids[49] {
		t.Fatalf("the 50th day: %+v %v", got, err)
	}
	// Half-open range, earliest first, only the customer's active ones.
	got, err = s.AppointmentsBetween(ctx, "salon-a", cust.ID, day50.Add(10*time.Hour), day50.Add(72*time.Hour+10*time.Hour))
	if err != nil || len(got) != 3 || got[0].ID != ids[49] || got[2].ID != ids[51] {
		t.Fatalf("three days: %+v %v", got, err)
	}
	for _, a := range got {
		if a.ID == cancelled {
			t.Fatal("cancelled appointment listed")
		}
	}
	if got, err := s.AppointmentsBetween(ctx, "salon-a", cust.ID, day50, day50); err != nil || len(got) != 0 {
		t.Fatalf("empty range: %+v %v", got, err)
	}
	if _, err := s.AppointmentsBetween(ctx, "", cust.ID, day50, day50.Add(time.Hour)); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("no tenant: %v", err)
	}
	// Another tenant's customer id finds nothing here.
	if got, _ := s.AppointmentsBetween(ctx, "salon-a", custB.ID, day50, day50.Add(24*time.Hour)); len(got) != 0 {
		t.Fatalf("cross-tenant: %+v", got)
	}
	n, err := s.CountUpcomingAppointments(ctx, "salon-a", cust.ID, day50)
	if err != nil || n != 11 {
		t.Fatalf("count from day 50 = %d %v, want 11", n, err)
	}
}

func TestClaimSignature(t *testing.T) {
	s, _, _ := newTestStore(t, 8)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	claim := func(tid, sig, call string) bool {
		t.Helper()
		ok, err := s.ClaimSignature(ctx, tid, sig, call)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("salon-a", "1.aa", "call_1") || !claim("salon-a", "1.aa", "call_1") {
		t.Fatal("first use and its repeat must pass")
	}
	if claim("salon-a", "1.aa", "call_2") {
		t.Fatal("the same signature for another call passed")
	}
	if claim("salon-a", "1.aa", "call_1") {
		t.Fatal("once presented for two calls, the signature acts for none")
	}
	// Global: another tenant cannot reuse it either.
	if !claim("salon-b", "2.bb", "call_b") || claim("salon-a", "2.bb", "call_a") {
		t.Fatal("signature claims are not global")
	}
	// Concurrent claims for different calls: at most one passes.
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ok, err := s.ClaimSignature(ctx, "salon-a", "3.cc", "call_race_"+string(rune('a'+i)))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if passed > 1 {
		t.Fatalf("%d different calls claimed one signature", passed)
	}
	if _, err := s.ClaimSignature(ctx, "salon-a", "", "call_1"); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("empty signature: %v", err)
	}
}
