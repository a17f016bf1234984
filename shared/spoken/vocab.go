package spoken

import (
	"strings"
	"time"
)

// daypart is a time-of-day word: a qualifier next to a clock time, a
// preference window on its own.
type daypart int

const (
	dpNone daypart = iota
	dpMorning
	dpMidday
	dpAfternoon
	dpEvening
	dpNight
	dpAM
	dpPM
)

// vocab is one language's word list. All keys are in normalised form
// (lower case, ä→ae, ö→oe, ü→ue, ß→ss); lookups also accept the forms
// without the "e" (maerz/marz) through addPlain.
type vocab struct {
	lang      string
	numbers   map[string]int // cardinal words 0–59
	ordinals  map[string]int // 1–31
	tens      map[string]int // English: twenty…fifty, to be joined with a unit word
	weekdays  map[string]time.Weekday
	months    map[string]time.Month
	relDays   map[string]int // heute 0, morgen 1, …
	dayparts  map[string]daypart
	fillers   map[string]bool
	hourWords map[string]bool // "uhr", "oclock"
	dayUnits  map[string]int  // tag(en) 1, woche(n) 7
	next      map[string]bool // nächste/kommende (week or weekday modifier)
	this      map[string]bool // diese(n/r)
	afterNext map[string]bool // übernächste
	week      map[string]bool // woche
}

func newVocab(lang string) *vocab {
	return &vocab{lang: lang, numbers: map[string]int{}, ordinals: map[string]int{}, tens: map[string]int{},
		weekdays: map[string]time.Weekday{}, months: map[string]time.Month{}, relDays: map[string]int{},
		dayparts: map[string]daypart{}, fillers: map[string]bool{}, hourWords: map[string]bool{},
		dayUnits: map[string]int{}, next: map[string]bool{}, this: map[string]bool{}, afterNext: map[string]bool{},
		week: map[string]bool{}}
}

// addPlain adds the spelling without umlaut-e ("fuenf" → "funf") for every
// key, unless that spelling already means something else.
func addPlain[V any](m map[string]V) {
	r := strings.NewReplacer("ae", "a", "oe", "o", "ue", "u")
	for k, v := range m {
		p := r.Replace(k)
		if _, taken := m[p]; !taken && p != k {
			m[p] = v
		}
	}
}

func set[V any](m map[string]V, v V, keys ...string) {
	for _, k := range keys {
		m[k] = v
	}
}

var (
	vocabDE = buildGerman()
	vocabEN = buildEnglish()
)

func vocabFor(locale string) (primary, secondary *vocab) {
	if strings.HasPrefix(strings.ToLower(locale), "en") {
		return vocabEN, vocabDE
	}
	return vocabDE, vocabEN
}

var germanUnits = []string{"null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun",
	"zehn", "elf", "zwoelf", "dreizehn", "vierzehn", "fuenfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"}
var germanTens = map[int]string{20: "zwanzig", 30: "dreissig", 40: "vierzig", 50: "fuenfzig"}

// germanCardinal is the normalised German word for 0–59.
func germanCardinal(n int) string {
	if n < 20 {
		return germanUnits[n]
	}
	t, u := n/10*10, n%10
	if u == 0 {
		return germanTens[t]
	}
	unit := germanUnits[u]
	if u == 1 {
		unit = "ein"
	}
	return unit + "und" + germanTens[t]
}

func germanOrdinalStem(n int) string {
	switch n {
	case 1:
		return "erst"
	case 3:
		return "dritt"
	case 7:
		return "siebt"
	case 8:
		return "acht"
	}
	if n < 20 {
		return germanCardinal(n) + "t"
	}
	return germanCardinal(n) + "st"
}

func buildGerman() *vocab {
	v := newVocab("de")
	for n := 0; n < 60; n++ {
		v.numbers[germanCardinal(n)] = n
	}
	set(v.numbers, 1, "ein", "eine", "einer", "einem", "einen")
	set(v.numbers, 2, "zwo")
	set(v.numbers, 16, "sechszehn")
	set(v.numbers, 17, "siebenzehn")
	for n := 1; n <= 31; n++ {
		for _, end := range []string{"e", "er", "en", "es", "em"} {
			v.ordinals[germanOrdinalStem(n)+end] = n
		}
	}
	for _, end := range []string{"e", "er", "en", "es", "em"} {
		v.ordinals["siebent"+end] = 7
	}
	set(v.weekdays, time.Monday, "montag", "montags")
	set(v.weekdays, time.Tuesday, "dienstag", "dienstags")
	set(v.weekdays, time.Wednesday, "mittwoch", "mittwochs")
	set(v.weekdays, time.Thursday, "donnerstag", "donnerstags")
	set(v.weekdays, time.Friday, "freitag", "freitags")
	set(v.weekdays, time.Saturday, "samstag", "samstags", "sonnabend", "sonnabends")
	set(v.weekdays, time.Sunday, "sonntag", "sonntags")
	set(v.months, time.January, "januar", "jaenner", "jan")
	set(v.months, time.February, "februar", "feber", "feb")
	set(v.months, time.March, "maerz", "mrz")
	set(v.months, time.April, "april", "apr")
	set(v.months, time.May, "mai")
	set(v.months, time.June, "juni", "jun")
	set(v.months, time.July, "juli", "jul")
	set(v.months, time.August, "august", "aug")
	set(v.months, time.September, "september", "sep", "sept")
	set(v.months, time.October, "oktober", "okt")
	set(v.months, time.November, "november", "nov")
	set(v.months, time.December, "dezember", "dez")
	set(v.relDays, 0, "heute")
	set(v.relDays, 1, "morgen")
	set(v.relDays, 2, "uebermorgen")
	set(v.dayparts, dpMorning, "morgens", "frueh", "vormittags", "vormittag", "frueher")
	set(v.dayparts, dpMidday, "mittags", "mittag", "mittagszeit", "mittagspause")
	set(v.dayparts, dpAfternoon, "nachmittags", "nachmittag")
	set(v.dayparts, dpEvening, "abends", "abend")
	set(v.dayparts, dpNight, "nachts", "nacht")
	set(v.fillers, true, "so", "gegen", "ungefaehr", "etwa", "circa", "ca", "zirka", "bitte", "gerne", "gern",
		"vielleicht", "am", "um", "den", "dem", "der", "die", "das", "im", "in", "zu", "zur", "also", "ja", "aeh",
		"aehm", "ehm", "hm", "hmm", "halt", "eventuell", "evtl", "wenn", "moeglich", "es", "geht", "ich", "haette",
		"wuerde", "moechte", "lieber", "dann", "termin", "einen", "uhrzeit", "datum", "tag", "auf", "fuer", "wie",
		"waere", "mit", "passt", "passen", "mir", "sagen", "wir", "mal", "doch", "denn", "nur", "genau", "bei",
		"rum", "herum", "irgendwann", "kann", "koennte", "zeit", "oder", "so", "schon", "gut", "an")
	// "irgendwann" and "oder" are deliberately NOT fillers: they signal vagueness.
	delete(v.fillers, "irgendwann")
	delete(v.fillers, "oder")
	set(v.hourWords, true, "uhr", "h")
	set(v.dayUnits, 1, "tag", "tagen", "tage", "tg")
	set(v.dayUnits, 7, "woche", "wochen")
	set(v.next, true, "naechste", "naechsten", "naechster", "naechstes", "kommende", "kommenden", "kommender",
		"folgende", "folgenden")
	set(v.this, true, "diese", "diesen", "dieser", "dieses")
	set(v.afterNext, true, "uebernaechste", "uebernaechsten", "uebernaechster")
	set(v.week, true, "woche")
	for _, m := range []any{v.numbers, v.ordinals, v.weekdays, v.months, v.relDays, v.dayparts, v.fillers, v.next, v.afterNext} {
		switch mm := m.(type) {
		case map[string]int:
			addPlain(mm)
		case map[string]time.Weekday:
			addPlain(mm)
		case map[string]time.Month:
			addPlain(mm)
		case map[string]daypart:
			addPlain(mm)
		case map[string]bool:
			addPlain(mm)
		}
	}
	// "tag" is a filler ("am Tag") but also a unit ("in einem Tag"); units
	// are matched before fillers.
	return v
}

var englishUnits = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
var englishOrdUnits = []string{"", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
	"tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
	"eighteenth", "nineteenth"}

func buildEnglish() *vocab {
	v := newVocab("en")
	for n, w := range englishUnits {
		v.numbers[w] = n
	}
	set(v.numbers, 1, "a", "an")
	set(v.numbers, 0, "oh")
	set(v.tens, 20, "twenty")
	set(v.tens, 30, "thirty")
	set(v.tens, 40, "forty", "fourty")
	set(v.tens, 50, "fifty")
	for w, n := range v.tens {
		v.numbers[w] = n
	}
	for n := 1; n < 20; n++ {
		v.ordinals[englishOrdUnits[n]] = n
	}
	set(v.ordinals, 20, "twentieth")
	set(v.ordinals, 30, "thirtieth")
	set(v.weekdays, time.Monday, "monday", "mon", "mondays")
	set(v.weekdays, time.Tuesday, "tuesday", "tue", "tues", "tuesdays")
	set(v.weekdays, time.Wednesday, "wednesday", "wed", "wednesdays")
	set(v.weekdays, time.Thursday, "thursday", "thu", "thur", "thurs", "thursdays")
	set(v.weekdays, time.Friday, "friday", "fri", "fridays")
	set(v.weekdays, time.Saturday, "saturday", "sat", "saturdays")
	set(v.weekdays, time.Sunday, "sunday", "sun", "sundays")
	set(v.months, time.January, "january", "jan")
	set(v.months, time.February, "february", "feb")
	set(v.months, time.March, "march", "mar")
	set(v.months, time.April, "april", "apr")
	set(v.months, time.May, "may")
	set(v.months, time.June, "june", "jun")
	set(v.months, time.July, "july", "jul")
	set(v.months, time.August, "august", "aug")
	set(v.months, time.September, "september", "sep", "sept")
	set(v.months, time.October, "october", "oct")
	set(v.months, time.November, "november", "nov")
	set(v.months, time.December, "december", "dec")
	set(v.relDays, 0, "today")
	set(v.relDays, 1, "tomorrow", "tmrw")
	set(v.dayparts, dpMorning, "morning", "mornings")
	set(v.dayparts, dpMidday, "midday", "lunchtime", "lunch")
	set(v.dayparts, dpAfternoon, "afternoon", "afternoons")
	set(v.dayparts, dpEvening, "evening", "evenings")
	set(v.dayparts, dpNight, "night")
	set(v.dayparts, dpAM, "am")
	set(v.dayparts, dpPM, "pm")
	set(v.fillers, true, "the", "on", "at", "around", "about", "please", "maybe", "approximately", "roughly",
		"like", "uh", "um", "umm", "er", "of", "for", "in", "say", "lets", "let", "us", "i", "would", "could",
		"prefer", "an", "appointment", "time", "day", "date", "possible", "if", "then", "ish", "or", "so", "well",
		"just", "perhaps", "probably", "sometime", "okay", "ok", "yes", "how", "what", "works", "good", "be",
		"is", "it", "that", "would", "fine", "to")
	delete(v.fillers, "sometime")
	delete(v.fillers, "or")
	delete(v.fillers, "to") // "quarter to" is a time; a stray "to" is not filler
	set(v.hourWords, true, "oclock", "h")
	set(v.dayUnits, 1, "day", "days")
	set(v.dayUnits, 7, "week", "weeks")
	set(v.next, true, "next", "coming")
	set(v.this, true, "this")
	set(v.week, true, "week")
	return v
}
