package e2e_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/testenv"
)

// The personal data of the simulated caller: distinctive enough that any
// occurrence anywhere is a leak, never a coincidence.
const (
	piiName    = "Quirinus Zwetschgenbaum"
	piiPhone   = "+4915239876543"
	piiNSN     = "15239876543" // national significant number: in every spelling of the phone
	piiEmail   = "quirinus.zwetschgenbaum@pflaumenpost.example"
	piiNotes   = "Bitte den Seiteneingang Pflaumenallee benutzen, Allergie gegen Lavendeloel."
	piiReason  = "Kollision mit dem Zahnarzt in der Wurmbergstrasse."
	piiSummary = "Quirinus Zwetschgenbaum buchte einen Herrenhaarschnitt; sein Kater Bartholomaeus wurde erwähnt."
)

// piiSentences are the caller's words in the transcript.
var piiSentences = []string{
	"Guten Tag, hier spricht Quirinus Zwetschgenbaum aus der Wurmbergstrasse.",
	"Mein Kater Bartholomaeus mag keinen Föhn, aber einen Herrenhaarschnitt hätte ich gern.",
	"Meine Nummer ist null eins fünf zwei drei neun acht sieben sechs fünf vier drei.",
	"Schreiben Sie an quirinus punkt zwetschgenbaum at pflaumenpost punkt example.",
}

// piiNeedles are what must appear nowhere: whole values and the
// distinctive parts of each (a name split into fields, a sentence cut into
// words), compared case-insensitively, plus the base64 and hex encodings
// of the whole values.
func piiNeedles() []string {
	n := []string{piiName, "Quirinus", "Zwetschgenbaum", piiEmail, "pflaumenpost", piiNotes, "Pflaumenallee", "Lavendeloel",
		piiReason, "Wurmbergstrasse", piiSummary, "Bartholomaeus", "neun acht sieben sechs", "fünf zwei drei", "keinen Föhn"}
	n = append(n, piiSentences...)
	for _, s := range []string{piiName, piiPhone, piiEmail, piiNotes, piiReason, piiSummary, piiNSN} {
		n = append(n, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)), hex.EncodeToString([]byte(s)))
	}
	// JSON's escaped spellings of the non-ASCII words.
	for _, s := range []string{"fünf zwei drei", "keinen Föhn"} {
		n = append(n, strings.NewReplacer("ü", `\u00fc`, "ö", `\u00f6`).Replace(s))
	}
	return n
}

// phoneSeparators are removed before looking for the phone's digits, so
// "+49 152 3987 6543", "0152-39876543", "(0152) 398 765 43", "0049152…"
// and "+4915239876543" all reduce to text containing piiNSN.
var phoneSeparators = regexp.MustCompile(`[\s\-/().\x{00a0}]+`)

// findPII returns the needles found in text (case-insensitively) and
// whether the phone number is in it in any spelling.
func findPII(text string) []string {
	low := strings.ToLower(text)
	var hits []string
	for _, n := range piiNeedles() {
		if strings.Contains(low, strings.ToLower(n)) {
			hits = append(hits, n)
		}
	}
	if strings.Contains(phoneSeparators.ReplaceAllString(text, ""), piiNSN) {
		hits = append(hits, "phone number")
	}
	return hits
}

func TestFindPIIRecognisesEverySpelling(t *testing.T) {
	for _, s := range []string{
		"+4915239876543", "4915239876543", "004915239876543", "015239876543", "+49 152 39876543", "0152 3987 6543",
		"+49 (0) 152 39876543", "0152-39876543", "0152/39876543", "+49-152-398-765-43", `"from":"+4915239876543"`,
		"ZWETSCHGENBAUM, Quirinus", "quirinus zwetschgenbaum", "Q. Zwetschgenbaum", "QUIRINUS.ZWETSCHGENBAUM@PFLAUMENPOST.EXAMPLE",
		"fünf zwei drei", `f\u00fcnf zwei drei`, "Kater bartholomaeus", base64.StdEncoding.EncodeToString([]byte(piiName)),
		hex.EncodeToString([]byte(piiEmail)), "Lavendeloel", "Pflaumenallee 3",
	} {
		if len(findPII(s)) == 0 {
			t.Errorf("%q not recognised as personal data", s)
		}
	}
	for _, s := range []string{"+4930123456", "call_e2e_privacy_1", "Herrenhaarschnitt", "1803000000000", "salon-sonnenschein"} {
		if hits := findPII(s); len(hits) != 0 {
			t.Errorf("%q taken for personal data: %v", s, hits)
		}
	}
}

// TestFullCallLeavesNoPersonalDataInClear runs one caller's whole story
// through the HTTP handlers — call_inbound, call_started, check, book (the
// Cal.com sandbox posts BOOKING_CREATED back), call_ended with the
// transcript, call_analyzed with the summary, a second call that cancels
// (BOOKING_CANCELLED comes back), the worker draining — and then reads
// everything the code logged and every text and blob column of every
// table: none of the caller's personal data may be there in clear.
func TestFullCallLeavesNoPersonalDataInClear(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	call1, call2, call3 := "call_e2e_privacy_1", "call_e2e_privacy_2", "call_e2e_privacy_3"
	c1 := caller{call1, piiPhone}
	when := at(4, 10, 0) // Thursday: more than 48 h ahead, cancelling is free

	inbound := func(callID string) {
		body := mustJSON(t, map[string]any{"event": "call_inbound", "event_timestamp": w.e.Clock.Now().UnixMilli(),
			"call_inbound": map[string]any{"agent_id": "agent_demo", "agent_version": 1, "from_number": piiPhone, "to_number": apptest.DemoNumber}})
		if s, resp := w.retell("/webhooks/retell/inbound", body); s != http.StatusOK {
			t.Fatalf("inbound: %d %s", s, resp)
		}
	}
	event := func(name, callID string) {
		body := retellEvent(t, w, name, callID)
		if s, resp := w.retell("/webhooks/retell/events", body); s != http.StatusNoContent {
			t.Fatalf("%s: %d %s", name, s, resp)
		}
	}

	inbound(call1)
	event("call_started", call1)
	wantReason(t, "check", w.fn("check-availability", c1, slotArgs(when)), "")
	args := bookArgs(when, piiName)
	args["customer_email"] = piiEmail
	args["notes"] = piiNotes
	booked := w.fn("book-appointment", c1, args)
	wantReason(t, "book", booked, "")
	w.flushHooks()
	w.e.Clock.Advance(3 * time.Minute)
	event("call_ended", call1)
	w.e.Clock.Advance(30 * time.Second)
	event("call_analyzed", call1)

	// The caller rings again to cancel.
	w.e.Clock.Advance(time.Hour)
	inbound(call2)
	event("call_started", call2)
	cancelled := w.fn("cancel-appointment", caller{call2, piiPhone}, map[string]any{"date": "2027-03-04", "time": "10:00", "reason": piiReason})
	wantReason(t, "cancel", cancelled, "")
	w.flushHooks()

	// More paths that handle the same data: a call with the number withheld
	// where the caller spells it nationally; a request for a closed day; a
	// forged Retell event; a booking the person makes on the Cal.com page.
	anon := caller{call3, "anonymous"}
	spelled := bookArgs(at(5, 12, 0), piiName)
	spelled["customer_phone"], spelled["customer_email"] = "0152 3987 6543", "quirinus.zwetschgenbaum @ pflaumenpost.example"
	wantReason(t, "book with a spelled number", w.fn("book-appointment", anon, spelled), "")
	wantReason(t, "book on a Sunday", w.fn("book-appointment", c1, bookArgs(at(7, 12, 0), piiName)), "closed")
	if s, _ := w.post("/webhooks/retell/events", retellEvent(t, w, "call_ended", call1), map[string]string{"X-Retell-Signature": "v=1,d=forged"}); s != http.StatusUnauthorized {
		t.Errorf("forged event: %d", s)
	}
	if _, err := w.sb.AddBooking(calcomtest.Booking{EventTypeID: etHerren, Start: at(5, 15, 0).UTC(),
		Attendee: calcom.Attendee{Name: piiName, Email: piiEmail, PhoneNumber: piiPhone, TimeZone: "Europe/Berlin", Language: "de"}}, true); err != nil {
		t.Fatal(err)
	}
	w.flushHooks()
	w.drain()

	// Sanity: the data went in and can be read back through the Store, and
	// it reached Cal.com; otherwise finding nothing below proves nothing.
	cust, err := w.e.Store.FindCustomerByPhone(ctx, tenantID, piiPhone)
	if err != nil || cust.Name != piiName || cust.Email != piiEmail {
		t.Fatalf("customer not stored (decrypted: %+v, %v)", cust, err)
	}
	cl, err := w.e.Store.GetCall(ctx, tenantID, call1)
	if err != nil || !strings.Contains(cl.Transcript, piiSentences[1]) || !strings.Contains(cl.Summary, "Bartholomaeus") || cl.FromNumber != piiPhone {
		t.Fatalf("call not stored with transcript and summary: %v", err)
	}
	appt, err := w.e.Store.GetAppointment(ctx, tenantID, booked.Appointment.ID)
	if err != nil || appt.Notes != piiNotes || appt.Status != "cancelled" {
		t.Fatalf("appointment not stored with its notes / not cancelled: %v", err)
	}
	var sent []calcomtest.Booking
	for _, b := range w.sb.Bookings() {
		if b.Attendee.Name == piiName && b.Attendee.PhoneNumber == piiPhone && b.Attendee.Email == piiEmail {
			sent = append(sent, b)
		}
	}
	if len(sent) != 3 || sent[0].Active() || !sent[1].Active() || !sent[2].Active() {
		t.Fatalf("Cal.com bookings of the caller: %+v", sent)
	}
	hooks := w.sb.Webhooks()
	for _, h := range hooks {
		if h.Status != http.StatusOK {
			t.Fatalf("a Cal.com webhook (carrying the attendee) was not accepted: %+v", h)
		}
	}
	if len(hooks) != 4 {
		t.Fatalf("%d Cal.com webhooks, want 4", len(hooks))
	}
	if n := w.count(`SELECT COUNT(*) FROM appointments WHERE tenant_id = ? AND status = 'confirmed'`, tenantID); n != 2 {
		t.Fatalf("%d confirmed appointments, want 2 (the spelled-number call and the online booking)", n)
	}

	// 1. Everything logged.
	logs := w.e.Logs.String()
	if !strings.Contains(logs, call1) || !strings.Contains(logs, call2) {
		t.Fatalf("the logs do not mention the calls: the scan would prove nothing")
	}
	for name, text := range map[string]string{"Env.Logs": logs, "slog default / log package": globalLog.String()} {
		for _, line := range strings.Split(text, "\n") {
			if hits := findPII(line); len(hits) > 0 {
				t.Errorf("%s: personal data %v in a log line", name, hits)
			}
		}
	}

	// 2. Every text and blob column of every table.
	db := w.e.Store.DB()
	cols := textColumns(t, db)
	if len(cols) < 20 {
		t.Fatalf("only %d text columns found: %v", len(cols), cols)
	}
	leaks, scanned := scanColumns(t, db, cols)
	for _, l := range leaks {
		t.Errorf("personal data in clear: %s", l)
	}
	// The scan reads what is there: the calls' ids and the dialled number.
	for _, want := range []string{"calls.call_id=" + call1, "calls.call_id=" + call2, "phone_numbers.e164=" + apptest.DemoNumber} {
		if !scanned[want] {
			t.Errorf("scan did not see %s: it does not read every table", want)
		}
	}

	// 3. The scan fails when a leak is there: plant the name in a column.
	if _, err := db.Exec(`UPDATE appointments SET needs_attention = ? WHERE id = ?`, "call "+strings.ToUpper(piiName), booked.Appointment.ID); err != nil {
		t.Fatal(err)
	}
	planted, _ := scanColumns(t, db, cols)
	if len(planted) != len(leaks)+1 || !containsPrefix(planted, "appointments.needs_attention") {
		t.Errorf("the planted leak was not found: %v", planted)
	}
	t.Logf("scanned %d text/blob columns of %d tables and %d log bytes", len(cols), countTables(cols), len(logs)+len(globalLog.String()))
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// retellEvent reads Retell's sample of the event (test data of the shared
// contracts, read at test time) and fills it with our call and caller.
func retellEvent(t *testing.T, w *world, name, callID string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.ContractsDir(t), "retell", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	call := m["call"].(map[string]any)
	now := w.e.Clock.Now()
	start := now.Add(-3 * time.Minute)
	call["call_id"], call["agent_id"], call["from_number"], call["to_number"] = callID, "agent_demo", piiPhone, apptest.DemoNumber
	call["start_timestamp"] = start.UnixMilli()
	call["metadata"] = map[string]any{}
	call["retell_llm_dynamic_variables"] = map[string]any{"customer_name": piiName, "business_time_zone": "Europe/Berlin"}
	if name == "call_started" {
		return mustJSON(t, m)
	}
	call["end_timestamp"], call["duration_ms"] = now.UnixMilli(), now.Sub(start).Milliseconds()
	call["collected_dynamic_variables"] = map[string]any{"caller_email": piiEmail}
	var transcript strings.Builder
	var objects, withTools []any
	for i, s := range piiSentences {
		agent := "Gern. Was darf ich für Sie tun?"
		transcript.WriteString("User: " + s + "\nAgent: " + agent + "\n")
		words := []any{}
		for j, wd := range strings.Fields(s) {
			words = append(words, map[string]any{"word": wd, "start": float64(i*10 + j), "end": float64(i*10+j) + 0.5})
		}
		u := map[string]any{"role": "user", "content": s, "words": words}
		objects = append(objects, u, map[string]any{"role": "agent", "content": agent, "words": []any{}})
		withTools = append(withTools, u)
	}
	args, _ := json.Marshal(map[string]string{"customer_name": piiName, "customer_email": piiEmail, "notes": piiNotes})
	withTools = append(withTools,
		map[string]any{"role": "tool_call_invocation", "tool_call_id": "tool_call_e2e", "name": "book_appointment", "arguments": string(args)},
		map[string]any{"role": "tool_call_result", "tool_call_id": "tool_call_e2e", "content": `{"ok":true}`, "successful": true})
	call["transcript"], call["transcript_object"], call["transcript_with_tool_calls"] = transcript.String(), objects, withTools
	if name == "call_analyzed" {
		// A tenant's agent may extract the caller's name into the custom
		// analysis: it is sealed like the transcript.
		call["call_analysis"] = map[string]any{"call_summary": piiSummary, "in_voicemail": false, "user_sentiment": "Positive",
			"call_successful": true, "custom_analysis_data": map[string]any{"appointment_booked": true, "caller_name": piiName}}
	}
	return mustJSON(t, m)
}

type column struct{ Table, Name string }

// textColumns lists every character, text, binary, blob and JSON column of
// the test database, from information_schema.
func textColumns(t *testing.T, db *sql.DB) []column {
	t.Helper()
	rows, err := db.Query(`SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE IN ('char','varchar','tinytext','text','mediumtext','longtext',
		'binary','varbinary','tinyblob','blob','mediumblob','longblob','json','enum','set')
		ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.Table, &c.Name); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func countTables(cols []column) int {
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c.Table] = true
	}
	return len(seen)
}

// scanColumns reads every value of every column and returns the leaks
// ("table.column: [needles]") and the set of "table.column=value" seen for
// short values (to prove the scan reads the tables).
func scanColumns(t *testing.T, db *sql.DB, cols []column) ([]string, map[string]bool) {
	t.Helper()
	var leaks []string
	seen := map[string]bool{}
	for _, c := range cols {
		rows, err := db.Query(fmt.Sprintf("SELECT `%s` FROM `%s` WHERE `%s` IS NOT NULL", c.Name, c.Table, c.Name))
		if err != nil {
			t.Fatalf("%s.%s: %v", c.Table, c.Name, err)
		}
		for rows.Next() {
			var v sql.RawBytes
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			if len(v) < 200 {
				seen[c.Table+"."+c.Name+"="+string(v)] = true
			}
			if hits := findPII(string(v)); len(hits) > 0 {
				sort.Strings(hits)
				leaks = append(leaks, fmt.Sprintf("%s.%s: %v", c.Table, c.Name, hits))
			}
		}
		rows.Close()
	}
	return leaks, seen
}
