package incall

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/spoken"
)

// The message catalogue rendered over a table of situations, in German and
// English: every answer within maxWords (except the explicit lists of
// several appointments), no day phrase said twice, offered times in time
// order, the year exactly when needed.

var msgBerlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

func bt(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, msgBerlin)
}

// situation: the caller speaks at ref, asks for requested; free are the
// free starts the calendar offers.
type situation struct {
	name      string
	ref       time.Time
	requested time.Time
	free      []time.Time
	wantYear  bool
}

var situations = []situation{
	{name: "one alternative same day", ref: bt(2026, 12, 7, 9, 0), requested: bt(2026, 12, 8, 13, 0),
		free: []time.Time{bt(2026, 12, 8, 12, 0)}},
	{name: "three alternatives same day", ref: bt(2026, 12, 7, 9, 0), requested: bt(2026, 12, 8, 13, 0),
		free: []time.Time{bt(2026, 12, 8, 13, 30), bt(2026, 12, 8, 12, 0), bt(2026, 12, 8, 12, 30)}},
	{name: "two days", ref: bt(2026, 12, 7, 9, 0), requested: bt(2026, 12, 8, 17, 30),
		free: []time.Time{bt(2026, 12, 8, 17, 0), bt(2026, 12, 9, 9, 0), bt(2026, 12, 9, 17, 30)}},
	{name: "three days same time", ref: bt(2026, 12, 7, 9, 0), requested: bt(2026, 12, 8, 14, 0),
		free: []time.Time{bt(2026, 12, 9, 14, 0), bt(2026, 12, 10, 14, 0), bt(2026, 12, 11, 14, 0)}},
	{name: "three days different times", ref: bt(2026, 12, 7, 9, 0), requested: bt(2026, 12, 8, 14, 0),
		free: []time.Time{bt(2026, 12, 9, 9, 30), bt(2026, 12, 10, 16, 0), bt(2026, 12, 11, 11, 15)}},
	{name: "today", ref: bt(2026, 12, 8, 9, 0), requested: bt(2026, 12, 8, 11, 0),
		free: []time.Time{bt(2026, 12, 8, 15, 0), bt(2026, 12, 8, 15, 30)}},
	{name: "tomorrow", ref: bt(2026, 12, 7, 16, 0), requested: bt(2026, 12, 8, 10, 0),
		free: []time.Time{bt(2026, 12, 8, 10, 30), bt(2026, 12, 9, 10, 0)}},
	{name: "year rollover", ref: bt(2026, 12, 30, 10, 0), requested: bt(2027, 1, 2, 10, 0),
		free: []time.Time{bt(2027, 1, 2, 11, 0), bt(2027, 1, 4, 9, 0), bt(2027, 1, 4, 9, 30)}, wantYear: true},
	{name: "more than six months ahead", ref: bt(2027, 3, 1, 10, 0), requested: bt(2027, 10, 12, 10, 0),
		free: []time.Time{bt(2027, 10, 12, 11, 0), bt(2027, 10, 13, 10, 0)}, wantYear: true},
	{name: "month boundary", ref: bt(2027, 3, 25, 10, 0), requested: bt(2027, 3, 31, 17, 0),
		free: []time.Time{bt(2027, 4, 1, 17, 0), bt(2027, 4, 2, 9, 0), bt(2027, 3, 31, 9, 0)}},
}

var reasons = []string{ReasonSlotTaken, ReasonClosed, ReasonTooSoon, ReasonPast}

func msgScope(locale string, ref time.Time) *scope {
	week := booking.OpeningHours{}
	for d := time.Monday; d <= time.Friday; d++ {
		week[d] = []booking.TimeRange{{Start: 9 * 60, End: 18 * 60}}
	}
	week[time.Saturday] = []booking.TimeRange{{Start: 9 * 60, End: 14 * 60}}
	return &scope{locale: locale, loc: msgBerlin, now: ref,
		branch: booking.Branch{OpeningHours: week, MinNoticeMinutes: 30},
		tenant: booking.Tenant{ID: "t"}}
}

var herren = booking.Service{ID: "herrenhaarschnitt", Name: "Herrenhaarschnitt", DurationMinutes: 30}

// listMessages may run past maxWords: they list several appointments.
var listMessages = map[msgID]bool{msgNotFoundAt: true, msgMultiple: true, msgUpcoming: true, msgMoreAppointments: true}

// sampleArgs renders msg as the use cases do in situation s.
func sampleArgs(v voice, id msgID, s situation) []any {
	when := capitalize(v.when(s.requested))
	appt := say(v.locale, msgAppointment, herren.Name, v.when(s.requested))
	three := []string{appt, say(v.locale, msgAppointment, "Damenhaarschnitt", v.when(s.free[0])),
		say(v.locale, msgAppointment, "Färben", v.when(s.requested.AddDate(0, 0, 7)))}
	services := joinAnd(v.locale, []string{"Herrenhaarschnitt", "Damenhaarschnitt", "Färben"})
	on := "am " + v.when(s.requested)
	if v.en() {
		on = "on " + v.when(s.requested)
	}
	switch id {
	case msgAvailable, msgTaken, msgPast:
		return []any{when}
	case msgTakenAt, msgTooSoonAt:
		return []any{v.clock(s.requested), hoursText(v.locale, 30)}[:map[msgID]int{msgTakenAt: 1, msgTooSoonAt: 2}[id]]
	case msgPastAt:
		return []any{capitalize(v.clock(s.requested))}
	case msgTooSoon:
		return []any{when, hoursText(v.locale, 30)}
	case msgClosedDay, msgDayPast, msgDayNoOptions:
		return []any{v.day(s.requested)}
	case msgClosed:
		return []any{when, "9 bis 18 Uhr"}
	case msgClosedAt:
		return []any{v.clock(s.requested), "9 bis 18 Uhr"}
	case msgNoSuchDay, msgNoSuchDayYear:
		return nil // rendered by noSuchDay, see checkSpeech's caller
	case msgConfirmDate:
		return []any{"morgen, " + v.day(s.requested)}
	case msgUnknownService, msgWhichService, msgServicesNone, msgServices:
		return []any{services}
	case msgWhichOf:
		return []any{"Damen- oder Herrenhaarschnitt"}
	case msgBooked:
		return []any{herren.Name, v.when(s.requested)}
	case msgBookedBound:
		return []any{"Damenhaarschnitt", v.when(s.requested), "Absagen oder Verschieben", hoursText(v.locale, 24*60)}
	case msgBookedOther:
		return []any{when, "Maximilian Mustermann-Schulze", "Erika Musterfrau"}
	case msgBookedOtherUnnamed:
		return []any{when, "Erika Musterfrau"}
	case msgPending:
		return []any{v.when(s.requested)}
	case msgNotFoundAt:
		return []any{v.day(s.requested), joinAnd(v.locale, three)}
	case msgMultiple, msgUpcoming:
		return []any{joinAnd(v.locale, three)}
	case msgMoreAppointments:
		return []any{51, joinAnd(v.locale, three)}
	case msgCancelled:
		return []any{appt}
	case msgCancelledFee:
		return []any{appt, euros(v.locale, 1550)}
	case msgDeniedNoticeCancel, msgDeniedNoticeMove:
		return []any{on, hoursText(v.locale, 24*60)}
	case msgAppointment:
		return []any{herren.Name, v.when(s.requested)}
	case msgDeniedQuota:
		return []any{3}
	case msgDeniedMaxReschedules:
		return []any{on, 2}
	case msgDeniedPastCancel, msgDeniedPastMove:
		return []any{appt}
	case msgRescheduled:
		return []any{v.when(s.requested)}
	case msgRescheduledFee:
		return []any{v.when(s.requested), euros(v.locale, 1000)}
	case msgDuration:
		return []any{"Färben", spoken.SpokenDuration(120, v.locale)}
	case msgDurationPrice:
		return []any{"Färben", spoken.SpokenDuration(120, v.locale), euros(v.locale, 7900)}
	case msgOfferDay, msgOfferDays:
		text, _ := v.offerText(s.requested, s.free)
		return []any{text} // checked as the whole sentence below
	case msgDayOptions:
		return []any{v.dayOptionsText(s.requested, sameDayOf(s.free, s.free[0]))}
	case msgDayOtherOptions:
		return []any{v.dayOptionsText(s.requested.AddDate(0, 0, -1), sameDayOf(s.free, s.requested))}
	}
	return nil
}

func sameDayOf(ts []time.Time, day time.Time) []time.Time {
	var out []time.Time
	for _, t := range ts {
		if sameDay(t, day, msgBerlin) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		out = ts[:1]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

var (
	weekdayRe = regexp.MustCompile(`\b(Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b[^.?!]*?(\d{1,2})`)
	yearRe    = regexp.MustCompile(`\b20\d\d\b`)
)

// checkSpeech: length, no day phrase twice, the year only where needed.
func checkSpeech(t *testing.T, id msgID, msg string, s situation) {
	t.Helper()
	if n := wordCount(msg); n > maxWords && !listMessages[id] {
		t.Errorf("%d words (max %d): %q", n, maxWords, msg)
	}
	seen := map[string]bool{}
	for _, m := range weekdayRe.FindAllStringSubmatch(msg, -1) {
		key := m[1] + " " + m[2]
		if seen[key] && !listMessages[id] {
			t.Errorf("day %q named twice: %q", key, msg)
		}
		seen[key] = true
	}
	if strings.Contains(msg, "%!") {
		t.Errorf("bad arguments: %q", msg)
	}
	if id != msgNoSuchDayYear && id != msgNoSuchDay && !s.wantYear && yearRe.MatchString(msg) {
		t.Errorf("year said for a date this season: %q", msg)
	}
}

// checkOrder: every offered time is said, in time order.
func checkOrder(t *testing.T, v voice, msg string, offered []time.Time) {
	t.Helper()
	sorted := append([]time.Time(nil), offered...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	pos, prev := 0, ""
	for _, o := range sorted {
		c := v.clock(o)
		if c == prev {
			continue // "jeweils um vierzehn Uhr": one time for several days
		}
		prev = c
		i := strings.Index(msg[pos:], c)
		if i < 0 {
			t.Errorf("%s not said (in order) in %q", c, msg)
			return
		}
		pos += i + len(c)
	}
}

func TestMessageCatalogue(t *testing.T) {
	for _, locale := range []string{"de", "en"} {
		if len(texts[locale]) != int(msgCount) {
			t.Fatalf("%s: %d texts for %d messages", locale, len(texts[locale]), msgCount)
		}
		for _, s := range situations {
			v := voice{locale: locale, loc: msgBerlin, ref: s.ref}
			for id := msgID(0); id < msgCount; id++ {
				t.Run(fmt.Sprintf("%s/%s/%d", locale, s.name, id), func(t *testing.T) {
					msg := say(locale, id, sampleArgs(v, id, s)...)
					switch id {
					case msgNoSuchDay: // the 31st of the next 30-day month
						m := s.ref.AddDate(0, 1, 0)
						for time.Date(m.Year(), m.Month(), 31, 12, 0, 0, 0, msgBerlin).Day() == 31 {
							m = m.AddDate(0, 1, 0)
						}
						msg = v.noSuchDay(spoken.Date{Year: m.Year(), Month: m.Month(), Day: 31})
					case msgNoSuchDayYear:
						msg = v.noSuchDay(spoken.Date{Year: 2027, Month: time.February, Day: 29})
					}
					if id == msgOfferDay || id == msgOfferDays || id == msgDayOptions || id == msgDayOtherOptions {
						msg = sampleArgs(v, id, s)[0].(string)
					}
					checkSpeech(t, id, msg, s)
				})
			}
		}
	}
}

// The composed refusals: reason, then the offer, as notAvailable says them.
func TestRefusalsOverSituations(t *testing.T) {
	sch := &Scheduler{Alternatives: true}
	for _, locale := range []string{"de", "en"} {
		for _, s := range situations {
			for _, reason := range reasons {
				t.Run(locale+"/"+s.name+"/"+reason, func(t *testing.T) {
					sc := msgScope(locale, s.ref)
					tg := &target{service: herren, start: s.requested}
					a := sch.notAvailable(sc, tg, reason, s.free, s.ref)
					if len(a.Alternatives) == 0 {
						t.Fatalf("no alternatives: %+v", a)
					}
					checkSpeech(t, msgTaken, a.Message, s)
					var offered []time.Time
					for _, alt := range a.Alternatives {
						st, _ := time.Parse(time.RFC3339, alt.Start)
						offered = append(offered, st)
					}
					checkOrder(t, sc.voice(), a.Message, offered)
					if s.wantYear && !yearRe.MatchString(a.Message) {
						t.Errorf("no year in %q", a.Message)
					}
					t.Log(a.Message)
				})
			}
		}
	}
}

// The example, word for word.
func TestRefusalExample(t *testing.T) {
	sc := msgScope("de", bt(2026, 12, 7, 9, 0))
	sch := &Scheduler{Alternatives: true}
	tg := &target{service: herren, start: bt(2026, 12, 8, 13, 0)}
	a := sch.notAvailable(sc, tg, ReasonSlotTaken, []time.Time{bt(2026, 12, 8, 12, 30), bt(2026, 12, 8, 13, 30), bt(2026, 12, 8, 12, 0)}, sc.now)
	want := "Um dreizehn Uhr ist leider schon vergeben. Am Dienstag, den 8. Dezember kann ich Ihnen zwölf Uhr, halb eins oder halb zwei anbieten."
	if a.Message != want {
		t.Errorf("got  %q\nwant %q", a.Message, want)
	}
	en := msgScope("en", sc.now)
	a = sch.notAvailable(en, tg, ReasonSlotTaken, []time.Time{bt(2026, 12, 8, 12, 30), bt(2026, 12, 8, 13, 30), bt(2026, 12, 8, 12, 0)}, sc.now)
	want = "I'm sorry, 1 PM is already taken. On Tuesday, December 8 I can offer 12 PM, 12:30 PM or 1:30 PM."
	if a.Message != want {
		t.Errorf("got  %q\nwant %q", a.Message, want)
	}
}

func TestNoSuchDayAndWhichOf(t *testing.T) {
	v := voice{locale: "de", loc: msgBerlin, ref: bt(2027, 2, 10, 10, 0)}
	got := v.noSuchDay(spoken.Date{Year: 2027, Month: time.February, Day: 29})
	want := "Den 29. Februar gibt es 2027 nicht. Meinen Sie Sonntag, den 28. Februar, oder Montag, den 1. März?"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	svcs := []booking.Service{{Name: "Damenhaarschnitt"}, {Name: "Herrenhaarschnitt"}}
	if got := whichOf("de", svcs); got != "Damen- oder Herrenhaarschnitt" {
		t.Errorf("whichOf = %q", got)
	}
	if got := whichOf("de", []booking.Service{{Name: "Färben"}, {Name: "Tönen"}}); got != "Färben oder Tönen" {
		t.Errorf("whichOf = %q", got)
	}
	if got := whichOf("en", svcs); got != "Damenhaarschnitt or Herrenhaarschnitt" {
		t.Errorf("whichOf en = %q", got)
	}
}
