package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// callEvents are the three lifecycle events of one call as the
// retell-events handler would hand them to the Store.
func callEvents(tenantID, callID string) (started, ended, analyzed booking.Call) {
	start := t0.Add(time.Minute)
	end := start.Add(89500 * time.Millisecond)
	started = booking.Call{TenantID: tenantID, CallID: callID, BranchID: "mitte", AgentID: "agent_1", Direction: "inbound",
		FromNumber: "+4917612345678", ToNumber: "+4930123456", Status: booking.CallOngoing, StartedAt: &start,
		DataStorageSetting: "everything"}
	ended = started
	ended.Status = booking.CallEnded
	ended.EndedAt = &end
	ended.DurationMS = 89500
	ended.DisconnectionReason = "user_hangup"
	ended.Transcript = "Agent: Salon Sonnenschein, guten Tag.\nUser: Hier ist Erika Musterfrau, ich möchte einen Termin."
	ended.RecordingURL = "https://example.invalid/rec.wav"
	ended.Cost = booking.CallCost{RetellUSDCents: 1044, PlatformEURCents: 960, ExchangeRate: 0.92, BilledMinutes: 2}
	analyzed = ended
	analyzed.Status = booking.CallAnalyzed
	analyzed.Summary = "Erika Musterfrau hat einen Damenhaarschnitt gebucht."
	analyzed.Sentiment = "Positive"
	analyzed.CallSuccessful = ptr(true)
	analyzed.CustomAnalysis = json.RawMessage(`{"booked":true}`)
	analyzed.Cost.CustomerEURCents = 29
	// call_started carries no cost, call_ended no analysis: the union needs all.
	return started, ended, analyzed
}

func expectedCall(tenantID, callID string) booking.Call {
	_, _, a := callEvents(tenantID, callID)
	s, e := a.StartedAt.UTC(), a.EndedAt.UTC()
	a.StartedAt, a.EndedAt = &s, &e
	return a
}

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestUpsertCallReplayAnyOrder(t *testing.T) {
	s, db, _ := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))

	var sequences [][]int
	for _, p := range permutations(3) {
		// Each event three times: grouped (a a a b b b c c c) and round-robin (a b c a b c a b c).
		var grouped, rr []int
		for _, e := range p {
			grouped = append(grouped, e, e, e)
		}
		for range 3 {
			rr = append(rr, p...)
		}
		sequences = append(sequences, grouped, rr)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 6 {
		seq := []int{0, 0, 0, 1, 1, 1, 2, 2, 2}
		rng.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
		sequences = append(sequences, seq)
	}
	for i, seq := range sequences {
		callID := fmt.Sprintf("call_replay_%02d", i)
		st, en, an := callEvents("salon-a", callID)
		events := []booking.Call{st, en, an}
		var last booking.Call
		for _, e := range seq {
			var err error
			if last, err = s.UpsertCall(ctx, events[e]); err != nil {
				t.Fatalf("seq %v: %v", seq, err)
			}
		}
		want := expectedCall("salon-a", callID)
		got, err := s.GetCall(ctx, "salon-a", callID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seq %v:\n got %+v\nwant %+v", seq, got, want)
		}
		if !reflect.DeepEqual(last, want) {
			t.Fatalf("seq %v: UpsertCall returned %+v", seq, last)
		}
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM calls`).Scan(&n)
	if n != len(sequences) {
		t.Fatalf("%d call rows for %d calls", n, len(sequences))
	}

	// A repeat changes nothing, not even updated_at or the ciphertexts.
	var before, after string
	q := `SELECT CONCAT(HEX(transcript_enc), HEX(from_enc), updated_at) FROM calls WHERE call_id = 'call_replay_00'`
	db.QueryRow(q).Scan(&before)
	_, _, an := callEvents("salon-a", "call_replay_00")
	if _, err := s.UpsertCall(ctx, an); err != nil {
		t.Fatal(err)
	}
	db.QueryRow(q).Scan(&after)
	if before != after {
		t.Fatal("a repeated event rewrote the row")
	}
}

func TestUpsertCallMergeRules(t *testing.T) {
	s, _, clk := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	_, en, an := callEvents("salon-a", "call_rules")
	if _, err := s.UpsertCall(ctx, an); err != nil {
		t.Fatal(err)
	}
	// A late call_ended with a different transcript and no summary must
	// neither regress the status nor replace analysed data.
	en.Transcript = "shorter"
	en.Sentiment = ""
	clk.Advance(time.Minute)
	got, err := s.UpsertCall(ctx, en)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != booking.CallAnalyzed || got.Transcript == "shorter" || got.Summary == "" || got.Sentiment != "Positive" {
		t.Fatalf("late event regressed the call: %+v", got)
	}
	var created, updated time.Time
	q := `SELECT created_at, updated_at FROM calls WHERE call_id = 'call_rules'`
	if err := s.db.QueryRow(q).Scan(&created, &updated); err != nil || !created.Equal(t0) || !updated.Equal(t0) {
		t.Fatalf("an event that changed nothing moved updated_at: %v %v %v", created, updated, err)
	}
	// Recomputed cost overwrites when provided.
	an.Cost = booking.CallCost{CustomerEURCents: 31}
	got, _ = s.UpsertCall(ctx, an)
	if got.Cost.CustomerEURCents != 31 || got.Cost.RetellUSDCents != 1044 {
		t.Fatalf("cost merge: %+v", got.Cost)
	}
	if err := s.db.QueryRow(q).Scan(&created, &updated); err != nil || !created.Equal(t0) || !updated.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after a change: created_at %v, updated_at %v, %v", created, updated, err)
	}
	// Anonymous callers store no number; bad input is refused.
	anon := booking.Call{TenantID: "salon-a", CallID: "call_anon", Status: booking.CallOngoing, FromNumber: "anonymous"}
	if got, err := s.UpsertCall(ctx, anon); err != nil || got.FromNumber != "" {
		t.Fatalf("anonymous call: %+v %v", got, err)
	}
	wantKind(t, func() error {
		_, err := s.UpsertCall(ctx, booking.Call{TenantID: "salon-a", CallID: "x", Status: "weird"})
		return err
	}(), booking.KindInvalid, "unknown status")
	wantKind(t, func() error {
		_, err := s.UpsertCall(ctx, booking.Call{TenantID: "salon-a", Status: booking.CallEnded})
		return err
	}(), booking.KindInvalid, "no call id")
	wantKind(t, func() error {
		_, err := s.UpsertCall(ctx, booking.Call{TenantID: "salon-a", CallID: "j", Status: booking.CallEnded, Transfers: json.RawMessage("{")})
		return err
	}(), booking.KindInvalid, "bad JSON")
	_, err = s.GetCall(ctx, "salon-a", "call_missing")
	wantKind(t, err, booking.KindNotFound, "GetCall(missing)")
}

func TestUpsertCallConcurrent(t *testing.T) {
	s, db, _ := newTestStore(t, 50)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	st, en, an := callEvents("salon-a", "call_concurrent")
	events := []booking.Call{st, en, an}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.UpsertCall(ctx, events[i%3]); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent UpsertCall: %v", err)
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM calls WHERE call_id = 'call_concurrent'`).Scan(&n)
	got, err := s.GetCall(ctx, "salon-a", "call_concurrent")
	if n != 1 || err != nil || !reflect.DeepEqual(got, expectedCall("salon-a", "call_concurrent")) {
		t.Fatalf("%d rows; got %+v, %v", n, got, err)
	}
}

func TestCallIDOfAnotherTenant(t *testing.T) {
	s, _, _ := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	mustApply(t, s, demoConfig("salon-b", "+4930999999", 2000))
	st, _, _ := callEvents("salon-a", "call_shared")
	if _, err := s.UpsertCall(ctx, st); err != nil {
		t.Fatal(err)
	}
	other := st
	other.TenantID = "salon-b"
	other.Transcript = "overwrite attempt"
	other.Status = booking.CallAnalyzed
	_, err := s.UpsertCall(ctx, other)
	wantKind(t, err, booking.KindConflict, "call id of another tenant")
	got, _ := s.GetCall(ctx, "salon-a", "call_shared")
	if got.Status != booking.CallOngoing || got.Transcript != "" {
		t.Fatalf("other tenant changed the call: %+v", got)
	}
	if _, err := s.GetCall(ctx, "salon-b", "call_shared"); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("tenant B reads A's call: %v", err)
	}
}

func BenchmarkUpsertCallEnded30KB(b *testing.B) {
	s, _, _ := newTestStore(b, 4)
	ctx := context.Background()
	mustApply(b, s, demoConfig("salon-a", "+4930123456", 1000))
	_, en, _ := callEvents("salon-a", "")
	en.Transcript = strings.Repeat("User: Ich hätte gern am Dienstag einen Termin.\n", 30*1024/48)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		en.CallID = fmt.Sprintf("call_bench_%d", i)
		i++
		if _, err := s.UpsertCall(ctx, en); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpsertCallEnded30KBRepeat(b *testing.B) {
	s, _, _ := newTestStore(b, 4)
	ctx := context.Background()
	mustApply(b, s, demoConfig("salon-a", "+4930123456", 1000))
	_, en, _ := callEvents("salon-a", "call_bench_repeat")
	en.Transcript = strings.Repeat("User: Ich hätte gern am Dienstag einen Termin.\n", 30*1024/48)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.UpsertCall(ctx, en); err != nil {
			b.Fatal(err)
		}
	}
}
