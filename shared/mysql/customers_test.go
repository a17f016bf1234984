package mysql

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func TestCustomers(t *testing.T) {
	s, _, clk := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))

	_, err := s.FindCustomerByPhone(ctx, "salon-a", "+4917612345678")
	wantKind(t, err, booking.KindNotFound, "FindCustomerByPhone before any")

	c, err := s.UpsertCustomerByPhone(ctx, "salon-a", "0176 12345678", "Erika Musterfrau", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 || c.Phone != "+4917612345678" || c.Name != "Erika Musterfrau" || c.Email != "" || c.Source != "phone" || !c.CreatedAt.Equal(t0) {
		t.Fatalf("upserted %+v", c)
	}
	// Found in any spelling; a later upsert with an empty name keeps it, an
	// email is added, last_seen moves.
	clk.Advance(time.Hour)
	c2, err := s.UpsertCustomerByPhone(ctx, "salon-a", "+49 176 12345678", "", "Erika@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID != c.ID || c2.Name != "Erika Musterfrau" || c2.Email != "Erika@Example.com" || !c2.LastSeenAt.Equal(t0.Add(time.Hour)) || !c2.CreatedAt.Equal(t0) {
		t.Fatalf("second upsert %+v", c2)
	}
	found, err := s.FindCustomerByPhone(ctx, "salon-a", "0049 176 12345678")
	if err != nil || found.ID != c.ID || found.FirstName() != "Erika" {
		t.Fatalf("FindCustomerByPhone = %+v, %v", found, err)
	}
	byMail, err := s.FindCustomerByEmail(ctx, "salon-a", " erika@example.COM")
	if err != nil || byMail.ID != c.ID {
		t.Fatalf("FindCustomerByEmail = %+v, %v", byMail, err)
	}
	got, err := s.GetCustomer(ctx, "salon-a", c.ID)
	if err != nil || *got != *c2 {
		t.Fatalf("GetCustomer = %+v, %v", got, err)
	}

	// Online booking: no phone.
	online, err := s.CreateCustomer(ctx, booking.Customer{TenantID: "salon-a", Name: "Max Mustermann", Email: "max@example.com"})
	if err != nil || online.ID == 0 || online.ID == c.ID || online.Source != "calcom" {
		t.Fatalf("CreateCustomer = %+v, %v", online, err)
	}
	again, _ := s.CreateCustomer(ctx, booking.Customer{TenantID: "salon-a", Name: "Max Mustermann"})
	if again == nil || again.ID == online.ID {
		t.Fatal("two phone-less customers must be two rows")
	}
	_, err = s.CreateCustomer(ctx, booking.Customer{TenantID: "salon-a", Phone: "+4917612345678"})
	wantKind(t, err, booking.KindConflict, "CreateCustomer with a known phone")
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("not ErrDuplicate: %v", err)
	}

	for _, anon := range []string{"anonymous", "", "+266696687", "12"} {
		_, err := s.UpsertCustomerByPhone(ctx, "salon-a", anon, "X", "")
		wantKind(t, err, booking.KindInvalid, "UpsertCustomerByPhone("+anon+")")
		_, err = s.FindCustomerByPhone(ctx, "salon-a", anon)
		wantKind(t, err, booking.KindInvalid, "FindCustomerByPhone("+anon+")")
	}
	_, err = s.GetCustomer(ctx, "salon-a", 999999)
	wantKind(t, err, booking.KindNotFound, "GetCustomer(missing)")
	_, err = s.GetCustomer(ctx, "", c.ID)
	wantKind(t, err, booking.KindInvalid, "GetCustomer without tenant")
}

func TestUpsertCustomerByPhoneConcurrent(t *testing.T) {
	s, db, _ := newTestStore(t, 50)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	var wg sync.WaitGroup
	ids := make([]int64, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.UpsertCustomerByPhone(ctx, "salon-a", "+4917699999999", "Paula", "")
			errs[i] = err
			if c != nil {
				ids[i] = c.ID
			}
		}()
	}
	wg.Wait()
	for i := range 50 {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("two ids: %d and %d", ids[0], ids[i])
		}
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM customers WHERE tenant_id = 'salon-a'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d customer rows, want 1", n)
	}
}

func BenchmarkFindCustomerByPhone(b *testing.B) {
	s, _, _ := newTestStore(b, 4)
	ctx := context.Background()
	mustApply(b, s, demoConfig("salon-a", "+4930123456", 1000))
	if _, err := s.UpsertCustomerByPhone(ctx, "salon-a", "+4917612345678", "Erika Musterfrau", "erika@example.com"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.FindCustomerByPhone(ctx, "salon-a", "+4917612345678"); err != nil {
			b.Fatal(err)
		}
	}
}
