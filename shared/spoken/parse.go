package spoken

import (
	"time"
)

// dateExpr is one date the caller named.
type dateExpr struct {
	d        Date
	explicit bool         // a calendar date (15. März, ISO): wins over relative words
	weekday  time.Weekday // the weekday named with it, when weekdayed
	weekdayd bool
}

// clockExpr is one clock time. ambiguous means it was said the 12-hour way
// (1–12 without a leading zero) and still needs the afternoon rule or a
// qualifier; weak marks an ISO midnight that yields to any other time.
type clockExpr struct {
	h, m      int
	ambiguous bool
	weak      bool
}

// rangeExpr is "ab 15 Uhr", "zwischen 14 und 16 Uhr": bounds as said.
type rangeExpr struct {
	from, to       clockExpr
	hasFrom, hasTo bool
}

// fieldResult is everything found in one text field.
type fieldResult struct {
	dates   []dateExpr
	offsets []int
	times   []clockExpr
	parts   []daypart
	ranges  []rangeExpr
	empty   bool // nothing but fillers
	noSuch  *Date
	// unsure: a "nächsten <Wochentag>" that lies in the current week
	// (said on a Friday, "nächsten Samstag"): callers split between
	// tomorrow and a week later.
	unsure bool
}

type parser struct {
	v         *vocab
	toks      []token
	timeField bool
	today     Date
	loc       *time.Location
	out       fieldResult
	bad       bool  // a date-ish construct was invalid (31.2.)
	noSuch    *Date // a day and month the resolved year does not have (29.2.2027)
	badTime   bool  // a time-ish construct was invalid (25:00)
	inRange   bool  // reading range bounds: "from 9 to 11" is not 10:51
}

// spokenHour tells whether an hour written with digits is said the 12-hour
// way: 1–12 without a leading zero ("7:30", "10:30"; not "07:30").
func spokenHour(h, width int) bool { return h >= 1 && h <= 12 && !(width == 2 && h < 10) }

// parseField reads one field with one vocabulary. ok=false means a token was
// not understood or a construct was invalid.
func parseField(text string, timeField bool, v *vocab, today Date, loc *time.Location) (fieldResult, bool) {
	norm := normalise(text)
	if len(norm) > maxInputBytes {
		return fieldResult{}, false
	}
	p := &parser{v: v, toks: tokenize(norm), timeField: timeField, today: today, loc: loc}
	meaningful := false
	for i := 0; i < len(p.toks); {
		n := p.step(i)
		if p.bad || p.badTime || n == 0 {
			return fieldResult{noSuch: p.noSuch}, false
		}
		if n > 0 {
			meaningful = true
		} else {
			n = -n // a filler
		}
		i += n
	}
	p.out.empty = !meaningful
	return p.out, true
}

// step consumes tokens at i: >0 meaningful, <0 filler, 0 not understood.
func (p *parser) step(i int) int {
	t := p.toks[i]
	switch t.kind {
	case tBad:
		return 0
	case tISO:
		p.addISO(t.iso)
		return 1
	}
	if n := p.matchDate(i); n > 0 {
		return n
	}
	if n := p.matchTime(i, p.timeField, false); n > 0 {
		return n
	}
	if n := p.matchRange(i); n > 0 {
		return n
	}
	if t.kind != tWord {
		return 0
	}
	if dp, ok := p.v.dayparts[t.s]; ok {
		p.out.parts = append(p.out.parts, dp)
		return 1
	}
	// German "3 am" at the very end is English a.m., not "am" (on the):
	// refuse so that the English vocabulary gets the field.
	if p.v.lang == "de" && t.s == "am" && i == len(p.toks)-1 && i > 0 && p.toks[i-1].kind != tWord {
		return 0
	}
	if p.v.fillers[t.s] {
		return -1
	}
	return 0
}

func (p *parser) addISO(v isoValue) {
	if !v.hasTime {
		p.out.dates = append(p.out.dates, dateExpr{d: v.date, explicit: true})
		return
	}
	if v.zone != "" {
		// An instant: read it on the branch's wall clock.
		off := 0
		if v.zone != "z" {
			sign := 1
			if v.zone[0] == '-' {
				sign = -1
			}
			z := v.zone[1:]
			hh := int(z[0]-'0')*10 + int(z[1]-'0')
			mmPos := 2
			if z[2] == ':' {
				mmPos = 3
			}
			mm := int(z[mmPos]-'0')*10 + int(z[mmPos+1]-'0')
			off = sign * (hh*3600 + mm*60)
		}
		inst := time.Date(v.date.Year, v.date.Month, v.date.Day, v.hour, v.min, v.sec, 0, time.UTC).
			Add(-time.Duration(off) * time.Second).In(p.loc)
		p.out.dates = append(p.out.dates, dateExpr{d: DateOf(inst, p.loc), explicit: true})
		p.out.times = append(p.out.times, clockExpr{h: inst.Hour(), m: inst.Minute()})
		return
	}
	p.out.dates = append(p.out.dates, dateExpr{d: v.date, explicit: true})
	p.out.times = append(p.out.times, clockExpr{h: v.hour, m: v.min, weak: v.hour == 0 && v.min == 0 && v.sec == 0})
}

func (p *parser) word(i int) string {
	if i < len(p.toks) && p.toks[i].kind == tWord {
		return p.toks[i].s
	}
	return ""
}

// numberAt reads a cardinal at i: digits or words ("twenty five" is two
// tokens). word tells whether it was spoken as a word.
func (p *parser) numberAt(i int) (n, used int, word, lead0 bool) {
	if i >= len(p.toks) {
		return 0, 0, false, false
	}
	t := p.toks[i]
	if t.kind == tNum {
		return t.n, 1, false, t.lead0
	}
	if t.kind != tWord {
		return 0, 0, false, false
	}
	if tens, ok := p.v.tens[t.s]; ok {
		if u, ok := p.v.numbers[p.word(i+1)]; ok && u >= 1 && u <= 9 && p.word(i+1) != "a" && p.word(i+1) != "an" && p.word(i+1) != "oh" {
			return tens + u, 2, true, false
		}
	}
	if n, ok := p.v.numbers[t.s]; ok {
		return n, 1, true, false
	}
	return 0, 0, false, false
}

// ordinalAt reads a day ordinal: "15.", "15th", "fünfzehnter", "twenty first".
func (p *parser) ordinalAt(i int) (n, used int) {
	if i >= len(p.toks) {
		return 0, 0
	}
	t := p.toks[i]
	if t.kind == tOrd {
		return t.n, 1
	}
	if t.kind != tWord {
		return 0, 0
	}
	if tens, ok := p.v.tens[t.s]; ok {
		if u, ok := p.v.ordinals[p.word(i+1)]; ok && u <= 9 {
			return tens + u, 2
		}
	}
	if n, ok := p.v.ordinals[t.s]; ok {
		return n, 1
	}
	return 0, 0
}

func (p *parser) addDate(d Date, explicit bool) {
	p.out.dates = append(p.out.dates, dateExpr{d: d, explicit: explicit})
}

func (p *parser) addWeekdayDate(d Date, wd time.Weekday) {
	p.out.dates = append(p.out.dates, dateExpr{d: d, weekday: wd, weekdayd: true})
}

// ---- dates ----

func (p *parser) matchDate(i int) int {
	w := p.word(i)
	v := p.v
	// English "(the) day after tomorrow".
	if w == "day" && p.word(i+1) == "after" && p.word(i+2) == "tomorrow" {
		p.addDate(p.today.AddDays(2), false)
		return 3
	}
	if w == "tonight" && v.lang == "en" {
		p.addDate(p.today, false)
		p.out.parts = append(p.out.parts, dpEvening)
		return 1
	}
	if n, ok := v.relDays[w]; ok {
		p.addDate(p.today.AddDays(n), false)
		return 1
	}
	if n := p.matchWeekday(i); n > 0 {
		return n
	}
	if n := p.matchOffset(i); n > 0 {
		return n
	}
	if n := p.matchHoliday(i); n > 0 {
		return n
	}
	if n := p.matchNextMonth(i); n > 0 {
		return n
	}
	return p.matchCalendar(i)
}

// holidays are the days callers name without a date. Only days with one
// meaning: "Weihnachten" (24th, 25th or 26th?) stays unclear.
var holidays = map[string][][]string{
	"de": {{"silvester"}, {"heiligabend"}, {"heiligen", "abend"}, {"heilig", "abend"}, {"neujahr"}, {"neujahrstag"}},
	"en": {{"new", "years", "eve"}, {"christmas", "eve"}, {"new", "years", "day"}},
}

var holidayDates = map[string][2]int{"silvester": {12, 31}, "heiligabend": {12, 24}, "heiligen": {12, 24}, "heilig": {12, 24},
	"neujahr": {1, 1}, "neujahrstag": {1, 1}, "new years eve": {12, 31}, "christmas": {12, 24}, "new years day": {1, 1}}

// matchHoliday reads "Silvester", "Heiligabend", "christmas eve": the next
// such day from today on.
func (p *parser) matchHoliday(i int) int {
	for _, words := range holidays[p.v.lang] {
		ok := true
		for k, w := range words {
			ok = ok && p.word(i+k) == w
		}
		if !ok {
			continue
		}
		key := words[0]
		if len(words) == 3 {
			key = words[0] + " " + words[1] + " " + words[2]
		}
		md := holidayDates[key]
		p.addCalendar(md[1], time.Month(md[0]), -1)
		return len(words)
	}
	return 0
}

var monthWords = map[string]bool{"monat": true, "monats": true, "month": true}

// nextMonthDay is day of the month after today's (31st of a 30-day month:
// no such day, asked about).
func (p *parser) nextMonthDay(day int) {
	first := Date{p.today.Year, p.today.Month, 1}.utc().AddDate(0, 1, 0)
	d := Date{first.Year(), first.Month(), day}
	if !d.Valid() {
		if day >= 1 && day <= 31 {
			p.noSuch = &d
		}
		p.bad = true
		return
	}
	p.addDate(d, true)
}

// matchNextMonth reads "nächsten Monat am Fünften", "next month on the 5th".
// The day-first order ("am Fünften nächsten Monats") is read by matchCalendar.
func (p *parser) matchNextMonth(i int) int {
	if !p.v.next[p.word(i)] || !monthWords[p.word(i+1)] {
		return 0
	}
	j := i + 2
	for k := 0; k < 2 && (p.word(j) == "am" || p.word(j) == "den" || p.word(j) == "on" || p.word(j) == "the"); k++ {
		j++
	}
	day, used := p.ordinalAt(j)
	if used == 0 {
		return 0
	}
	p.nextMonthDay(day)
	return j + used - i
}

// weekOffset reads "nächste Woche", "diese Woche", "übernächste Woche",
// "next week", "this week", "the week after next" at i: the number of weeks
// after the current one.
func (p *parser) weekOffset(i int) (weeks, used int) {
	w := p.word(i)
	switch {
	case p.v.week[p.word(i+1)] && p.v.next[w]:
		return 1, 2
	case p.v.week[p.word(i+1)] && p.v.this[w]:
		return 0, 2
	case p.v.week[p.word(i+1)] && p.v.afterNext[w]:
		return 2, 2
	case w == "week" && p.word(i+1) == "after" && p.word(i+2) == "next":
		return 2, 3
	}
	return 0, 0
}

// skipLinks skips up to two linking words ("der", "in", "of", "the", "on",
// "am") between a weekday and its week.
var weekLinks = map[string]bool{"der": true, "in": true, "of": true, "the": true, "on": true, "am": true}

func (p *parser) skipLinks(i int) int {
	j := i
	for j < len(p.toks) && j-i < 2 && weekLinks[p.word(j)] {
		j++
	}
	return j
}

func (p *parser) matchWeekday(i int) int {
	v := p.v
	// "nächste Woche (am) Mittwoch", "this week (on) monday".
	if weeks, used := p.weekOffset(i); used > 0 {
		j := p.skipLinks(i + used)
		if wd, ok := v.weekdays[p.word(j)]; ok {
			p.addWeekdayDate(p.today.mondayOf().AddDays(7*weeks+isoIndex(wd)), wd)
			return j + 1 - i
		}
		return 0
	}
	w := p.word(i)
	mod, used := "", 0
	switch {
	case v.this[w] && v.next[p.word(i+1)]: // "this coming monday"
		mod, used = "next", 2
	case v.next[w]:
		mod, used = "next", 1
	case v.this[w]:
		mod, used = "this", 1
	case v.afterNext[w]:
		mod, used = "afternext", 1
	}
	wd, ok := v.weekdays[p.word(i+used)]
	if !ok {
		return 0
	}
	used++
	// "Mittwoch (der) nächste(n) Woche", "monday (of) next week".
	if mod == "" {
		j := p.skipLinks(i + used)
		if weeks, u := p.weekOffset(j); u > 0 {
			p.addWeekdayDate(p.today.mondayOf().AddDays(7*weeks+isoIndex(wd)), wd)
			return j + u - i
		}
	}
	delta := (int(wd) - int(p.today.Weekday()) + 7) % 7
	switch mod {
	case "this":
		// today included
	case "afternext":
		if delta == 0 {
			delta = 7
		}
		delta += 7
	default:
		if delta == 0 {
			delta = 7
		}
	}
	d := p.today.AddDays(delta)
	if mod == "next" && d.mondayOf() == p.today.mondayOf() {
		p.out.unsure = true
	}
	p.addWeekdayDate(d, wd)
	return used
}

// matchOffset reads "in N Tagen/Wochen", "in a week", "two weeks from today".
func (p *parser) matchOffset(i int) int {
	j := i
	if p.word(i) == "in" {
		j++
	}
	n, used, word, _ := p.numberAt(j)
	if used == 0 {
		return 0
	}
	unit, ok := p.v.dayUnits[p.word(j+used)]
	if !ok {
		return 0
	}
	end := j + used + 1
	if j == i { // no "in": only "N weeks from today/now" (English)
		if p.word(end) != "from" || (p.word(end+1) != "today" && p.word(end+1) != "now") {
			return 0
		}
		end += 2
	}
	if n < 0 || n > 400 {
		p.bad = true
		return 1
	}
	days := n * unit
	if p.v.lang == "de" && unit == 1 && n == 8 && (word || p.toks[j].kind == tNum) {
		days = 7 // "in acht Tagen" is German for "in a week"
	}
	p.out.offsets = append(p.out.offsets, days)
	return end - i
}

// matchCalendar reads explicit calendar dates.
func (p *parser) matchCalendar(i int) int {
	t := p.toks[i]
	v := p.v
	if t.kind == tDotted && !p.dottedIsTime(i, false) {
		d, m, y := t.parts[0], t.parts[1], -1
		if len(t.parts) == 3 {
			y = t.parts[2]
			switch t.width[2] {
			case 2:
				y += 2000
			case 4:
			default:
				p.bad = true
				return 1
			}
		}
		p.addCalendar(d, time.Month(m), y)
		return 1
	}
	// "15. März (2027)", "fünfzehnter März", "15th of March", "13 Dezember".
	day, used := p.ordinalAt(i)
	if used == 0 && t.kind == tNum && !t.lead0 {
		if _, ok := v.months[p.word(i+1)]; ok {
			day, used = t.n, 1
		}
	}
	if used > 0 {
		j := i + used
		if p.word(j) == "of" {
			j++
		}
		if m, ok := v.months[p.word(j)]; ok {
			y, yu := p.yearAt(j + 1)
			p.addCalendar(day, m, y)
			return j + 1 + yu - i
		}
		if t.kind == tOrd && p.word(j) == "" && j < len(p.toks) && p.toks[j].kind == tOrd && p.toks[j].n <= 12 {
			// "15. 3." spoken with a pause
			y, yu := p.yearAt(j + 1)
			p.addCalendar(day, time.Month(p.toks[j].n), y)
			return j + 1 + yu - i
		}
		// "am Fünften nächsten Monats", "the fifth of next month".
		if p.v.next[p.word(j)] && monthWords[p.word(j+1)] {
			p.nextMonthDay(day)
			return j + 2 - i
		}
		// "am 15." / "the 15th": a day of a month.
		p.addDayOfMonth(day)
		return used
	}
	// English "March 15(th)", "March the 15th".
	if m, ok := v.months[t.s]; ok && t.kind == tWord {
		j := i + 1
		if p.word(j) == "the" {
			j++
		}
		day, used := p.ordinalAt(j)
		if used == 0 && j < len(p.toks) && p.toks[j].kind == tNum {
			day, used = p.toks[j].n, 1
		}
		if used == 0 {
			return 0
		}
		y, yu := p.yearAt(j + used)
		p.addCalendar(day, m, y)
		return j + used + yu - i
	}
	return 0
}

func (p *parser) yearAt(i int) (year, used int) {
	if i < len(p.toks) && p.toks[i].kind == tNum && len(p.toks[i].s) == 4 {
		return p.toks[i].n, 1
	}
	return -1, 0
}

// addCalendar adds day.month[.year]; without a year the next such day from
// today on (a day already past this year is next year's).
func (p *parser) addCalendar(day int, m time.Month, year int) {
	if year >= 0 {
		d := Date{year, m, day}
		if year < 2000 || year > 2199 || !d.Valid() {
			p.bad = true
			return
		}
		p.addDate(d, true)
		return
	}
	// This year's, or next year's when it is past. A day that year does not
	// have (29. Februar outside a leap year) is asked about, never moved to
	// a leap year years ahead where the caller could not notice.
	d := Date{p.today.Year, m, day}
	if (Date{p.today.Year, m, min(day, 28)}).Before(p.today) && !(d.Valid() && !d.Before(p.today)) {
		d.Year++
	}
	if !d.Valid() {
		if m >= time.January && m <= time.December && day >= 1 && day <= 31 {
			p.noSuch = &d
		}
		p.bad = true
		return
	}
	p.addDate(d, true)
}

// addDayOfMonth: "am 15." is this month's 15th, or the next month's when
// it is past (or the next month that has that day).
func (p *parser) addDayOfMonth(day int) {
	if day < 1 || day > 31 {
		p.bad = true
		return
	}
	first := Date{p.today.Year, p.today.Month, 1}
	for k := 0; k < 13; k++ {
		t := first.utc().AddDate(0, k, 0)
		d := Date{t.Year(), t.Month(), day}
		if d.Valid() && !d.Before(p.today) {
			p.addDate(d, true)
			return
		}
	}
	p.bad = true
}

// ---- times ----

// dottedIsTime decides whether "14.30" is a time: followed by "Uhr", in the
// time field, after "um", or with minutes that cannot be a month.
func (p *parser) dottedIsTime(i int, afterPrefix bool) bool {
	t := p.toks[i]
	if t.dot || len(t.parts) != 2 || t.width[1] != 2 || t.parts[0] > 24 || t.parts[1] > 59 {
		return false
	}
	return afterPrefix || p.timeField || t.parts[1] > 12 || p.v.hourWords[p.word(i+1)] ||
		p.v.dayparts[p.word(i+1)] != dpNone
}

// hourAt reads an hour said as a number 0–24 at i.
func (p *parser) hourAt(i int) (c clockExpr, used int) {
	n, used, _, lead0 := p.numberAt(i)
	if used == 0 || n > 24 {
		return clockExpr{}, 0
	}
	return clockExpr{h: n, ambiguous: n >= 1 && n <= 12 && !lead0}, used
}

// toward returns the hour before the one named ("halb drei" → 2:30,
// "viertel vor eins" → 12:45).
func before(c clockExpr) clockExpr {
	switch {
	case c.ambiguous && c.h == 1:
		c.h = 12
	case c.h == 0:
		c.h, c.ambiguous = 23, false
	default:
		c.h--
	}
	if c.h >= 13 {
		c.ambiguous = false
	}
	return c
}

func (p *parser) addTime(c clockExpr) {
	if c.h > 23 || c.m > 59 || c.h < 0 || c.m < 0 {
		p.badTime = true
		return
	}
	p.out.times = append(p.out.times, c)
}

// matchTime reads a clock time at i. bare allows a lone number as an hour.
func (p *parser) matchTime(i int, bare, afterPrefix bool) int {
	n, c := p.clockAt(i, bare, afterPrefix)
	if n > 0 {
		p.addTime(c)
	}
	return n
}

// clockAt reads a clock time at i without recording it.
func (p *parser) clockAt(i int, bare, afterPrefix bool) (int, clockExpr) {
	if i >= len(p.toks) {
		return 0, clockExpr{}
	}
	t := p.toks[i]
	w := t.s
	if t.kind != tWord {
		w = ""
	}
	v := p.v
	withUhr := func(n int, c clockExpr) (int, clockExpr) {
		if v.hourWords[p.word(i+n)] {
			n++
		}
		return n, c
	}
	de := v.lang == "de"
	switch {
	case w == "mitternacht" || w == "midnight":
		return 1, clockExpr{h: 0}
	case w == "noon":
		return 1, clockExpr{h: 12}
	// "halb drei", "half past two", "half two"
	case de && w == "halb", !de && w == "half":
		j := i + 1
		if !de && p.word(j) == "past" {
			c, u := p.hourAt(j + 1)
			if u == 0 {
				return 0, clockExpr{}
			}
			c.m = 30
			return withUhr(1+1+u, c)
		}
		c, u := p.hourAt(j)
		if u == 0 || c.h == 0 {
			return 0, clockExpr{}
		}
		if de {
			c = before(c)
		}
		c.m = 30
		return withUhr(1+u, c)
	// "viertel nach neun", "viertel vor elf", "viertel elf", "(a) quarter past/to nine"
	case de && w == "viertel", !de && (w == "quarter" || w == "a" && p.word(i+1) == "quarter"):
		j := i + 1
		if w == "a" {
			j++
		}
		rel := p.word(j)
		switch {
		case de && rel == "nach", !de && (rel == "past" || rel == "after"):
			c, u := p.hourAt(j + 1)
			if u == 0 {
				return 0, clockExpr{}
			}
			c.m = 15
			return withUhr(j+1+u-i, c)
		case de && rel == "vor", !de && (rel == "to" || rel == "of" || rel == "before"):
			c, u := p.hourAt(j + 1)
			if u == 0 {
				return 0, clockExpr{}
			}
			c = before(c)
			c.m = 45
			return withUhr(j+1+u-i, c)
		case de:
			c, u := p.hourAt(j)
			if u == 0 {
				return 0, clockExpr{}
			}
			c = before(c)
			c.m = 15
			return withUhr(j+u-i, c)
		}
		return 0, clockExpr{}
	// "drei viertel elf", "dreiviertel elf"
	case de && (w == "dreiviertel" || w == "drei" && p.word(i+1) == "viertel"):
		j := i + 1
		if w == "drei" {
			j++
		}
		c, u := p.hourAt(j)
		if u == 0 {
			return 0, clockExpr{}
		}
		c = before(c)
		c.m = 45
		return withUhr(j+u-i, c)
	case t.kind == tClock:
		h, m := t.parts[0], t.parts[1]
		if len(t.parts) == 3 && t.parts[2] > 59 || t.width[1] != 2 || h > 24 {
			p.badTime = true
			return 1, clockExpr{}
		}
		return withUhr(1, clockExpr{h: h, m: m, ambiguous: spokenHour(h, t.width[0])})
	case t.kind == tDotted && p.dottedIsTime(i, afterPrefix):
		h, m := t.parts[0], t.parts[1]
		return withUhr(1, clockExpr{h: h, m: m, ambiguous: spokenHour(h, t.width[0])})
	// "um 3", "gegen halb vier", "at 3"
	case de && (w == "um" || w == "gegen"), !de && (w == "at" || w == "around" || w == "about"):
		j := i + 1
		for j < len(p.toks) && j-i < 3 && (p.word(j) == "so" || p.word(j) == "gegen" || p.word(j) == "ungefaehr" ||
			p.word(j) == "etwa" || p.word(j) == "around" || p.word(j) == "about") {
			j++
		}
		if n, c := p.clockAt(j, true, true); n > 0 {
			return j - i + n, c
		}
		return 0, clockExpr{}
	}
	// Minutes relative to an hour: "fünf nach drei", "zehn vor halb vier",
	// "twenty past two", "ten to four".
	if mins, u, _, _ := p.numberAt(i); u > 0 && mins >= 1 && mins <= 29 && !p.inRange {
		j := i + u
		if p.word(j) == "minuten" || p.word(j) == "minute" || p.word(j) == "minutes" || p.word(j) == "min" {
			j++
		}
		rel := p.word(j)
		after := de && rel == "nach" || !de && (rel == "past" || rel == "after")
		beforeRel := de && rel == "vor" || !de && (rel == "to" || rel == "before")
		if after || beforeRel {
			half := de && p.word(j+1) == "halb"
			k := j + 1
			if half {
				k++
			}
			c, hu := p.hourAt(k)
			if hu > 0 {
				switch {
				case half && after:
					c = before(c)
					c.m = 30 + mins
				case half:
					c = before(c)
					c.m = 30 - mins
				case after:
					c.m = mins
				default:
					c = before(c)
					c.m = 60 - mins
				}
				return withUhr(k+hu-i, c)
			}
		}
	}
	// "14 Uhr (30)", "zehn Uhr dreißig", "3 o'clock", "3 pm", "ten thirty".
	c, u := p.hourAt(i)
	if u == 0 {
		return 0, clockExpr{}
	}
	j := i + u
	if v.hourWords[p.word(j)] {
		j++
		if m, mu, _, _ := p.numberAt(j); mu > 0 && m <= 59 && !(j < len(p.toks) && p.toks[j].kind == tNum && p.monthFollows(j+mu)) {
			c.m = m
			j += mu
		}
		return j - i, c
	}
	// hour followed directly by minutes: "ten thirty", "ten oh five", "14 30"
	if m, mu, word, _ := p.numberAt(j); mu > 0 && m <= 59 && (bare || !de) {
		isTwoDigit := p.toks[j].kind == tNum && len(p.toks[j].s) == 2
		if p.word(j) == "oh" {
			if m2, mu2, _, _ := p.numberAt(j + 1); mu2 > 0 && m2 <= 9 && p.word(j+1) != "oh" {
				c.m = m2
				return j + 1 + mu2 - i, c
			}
		} else if (word && m >= 10 && !de) || isTwoDigit {
			c.m = m
			return j + mu - i, c
		}
	}
	// A lone hour: only where it cannot be anything else.
	dp := v.dayparts[p.word(j)]
	if bare && (p.toks[i].kind == tNum || afterPrefix) || dp != dpNone {
		if p.monthFollows(j) {
			return 0, clockExpr{}
		}
		return j - i, c
	}
	return 0, clockExpr{}
}

func (p *parser) monthFollows(j int) bool {
	_, ok := p.v.months[p.word(j)]
	return ok
}

// ---- ranges ----

// matchRange reads "ab 15 Uhr", "nach 15 Uhr", "bis 12", "vor 11",
// "zwischen 14 und 16 Uhr", "after 3 pm", "between 2 and 4", "from 2 to 4".
func (p *parser) matchRange(i int) int {
	w := p.word(i)
	de := p.v.lang == "de"
	lower := de && (w == "ab" || w == "nach" || w == "zwischen" || w == "von") ||
		!de && (w == "after" || w == "from" || w == "between")
	upper := de && (w == "bis" || w == "vor") || !de && (w == "before" || w == "until" || w == "till" || w == "by")
	if !lower && !upper {
		return 0
	}
	p.inRange = true
	defer func() { p.inRange = false }()
	n, c := p.clockAt(i+1, true, true)
	if n == 0 {
		return 0
	}
	j := i + 1 + n
	r := rangeExpr{}
	if upper {
		r.to, r.hasTo = c, true
		p.out.ranges = append(p.out.ranges, r)
		return j - i
	}
	r.from, r.hasFrom = c, true
	link := p.word(j)
	if de && (link == "und" || link == "bis") || !de && (link == "and" || link == "to" || link == "until" || link == "till") {
		if n2, c2 := p.clockAt(j+1, true, true); n2 > 0 {
			r.to, r.hasTo = c2, true
			j += 1 + n2
		} else if w == "zwischen" || w == "between" || w == "von" {
			return 0
		}
	} else if w == "zwischen" || w == "between" || w == "von" {
		return 0
	}
	p.out.ranges = append(p.out.ranges, r)
	return j - i
}
