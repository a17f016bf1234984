package spoken

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

type tokKind int

const (
	tWord   tokKind = iota
	tNum            // 14, 2027
	tOrd            // 15. / 15th / 15ten
	tClock          // 14:30 (parts h, m[, s])
	tDotted         // 15.3  15.3.  15.03.2027  14.30 (date or time, decided by context)
	tISO            // 2027-03-02[T14:30[:00][+01:00]]
	tBad            // something that can never be understood
)

type token struct {
	kind  tokKind
	s     string // word text (normalised) or the raw digits
	n     int    // value of tNum/tOrd
	lead0 bool   // tNum written with a leading zero ("07")
	parts []int  // tClock/tDotted components
	width []int  // digit count of each component
	dot   bool   // tDotted with a trailing dot ("15.3.")
	iso   isoValue
}

type isoValue struct {
	date      Date
	hasTime   bool
	hour, min int
	sec       int
	zone      string // "", "z" or "+01:00"
}

// maxInputBytes bounds the work per field; real answers are far shorter.
const maxInputBytes = 200

var isoRe = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(z|[+-]\d{2}:?\d{2})?)?`)

var normaliser = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "ae", "Ö", "oe", "Ü", "ue",
	"ẞ", "ss", "a.m.", "am", "p.m.", "pm", "o'clock", "oclock", "o’clock", "oclock", "’", "", "'", "")

func normalise(s string) string {
	return normaliser.Replace(strings.ToLower(s))
}

// suffixes glued to a number.
var ordinalSuffix = map[string]bool{"te": true, "ten": true, "ter": true, "tes": true, "tem": true, "th": true,
	"st": true, "nd": true, "rd": true}

// tokenize splits normalised text into tokens. It never fails; characters it
// does not know become separators or tBad tokens.
func tokenize(s string) []token {
	var toks []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsDigit(r) && r < 128:
			if m := isoRe.FindStringSubmatch(string(rs[i:min(len(rs), i+40)])); m != nil {
				if tok, ok := isoToken(m); ok {
					toks = append(toks, tok)
				} else {
					toks = append(toks, token{kind: tBad})
				}
				i += len([]rune(m[0]))
				continue
			}
			j := i
			for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || (rs[j] == '.' || rs[j] == ':') && j+1 < len(rs) && rs[j+1] >= '0' && rs[j+1] <= '9') {
				j++
			}
			tok := numberToken(string(rs[i:j]))
			if j < len(rs) && rs[j] == '.' && (tok.kind == tNum || tok.kind == tDotted) {
				j++
				if tok.kind == tNum {
					tok.kind = tOrd
				} else {
					tok.dot = true
				}
			}
			// Letters glued to the number: "15ten", "3pm", "14uhr".
			k := j
			for k < len(rs) && unicode.IsLetter(rs[k]) {
				k++
			}
			suffix := string(rs[j:k])
			if ordinalSuffix[suffix] && tok.kind == tNum {
				tok.kind = tOrd
				suffix = ""
			}
			toks = append(toks, tok)
			if suffix != "" {
				toks = append(toks, splitWord(suffix)...)
			}
			i = k
		case unicode.IsLetter(r):
			j := i
			for j < len(rs) && unicode.IsLetter(rs[j]) {
				j++
			}
			toks = append(toks, splitWord(string(rs[i:j]))...)
			i = j
		default:
			i++
		}
	}
	return toks
}

func isoToken(m []string) (token, bool) {
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	v := isoValue{date: Date{y, timeMonth(mo), d}}
	if !v.date.Valid() {
		return token{}, false
	}
	if m[4] != "" {
		v.hasTime = true
		v.hour, _ = strconv.Atoi(m[4])
		v.min, _ = strconv.Atoi(m[5])
		if m[6] != "" {
			v.sec, _ = strconv.Atoi(m[6])
		}
		v.zone = m[7]
		if v.hour > 23 || v.min > 59 || v.sec > 59 {
			return token{}, false
		}
	}
	return token{kind: tISO, iso: v}, true
}

func numberToken(s string) token {
	if strings.ContainsAny(s, ".:") {
		colon, dot := strings.Contains(s, ":"), strings.Contains(s, ".")
		if colon && dot {
			return token{kind: tBad, s: s}
		}
		kind := tDotted
		if colon {
			kind = tClock
		}
		var parts, width []int
		for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == ':' }) {
			if len(p) > 4 {
				return token{kind: tBad, s: s}
			}
			n, _ := strconv.Atoi(p)
			parts, width = append(parts, n), append(width, len(p))
		}
		if len(parts) > 3 || kind == tClock && len(parts) < 2 {
			return token{kind: tBad, s: s}
		}
		return token{kind: kind, s: s, parts: parts, width: width}
	}
	if len(s) > 4 {
		return token{kind: tBad, s: s}
	}
	n, _ := strconv.Atoi(s)
	return token{kind: tNum, s: s, n: n, lead0: len(s) > 1 && s[0] == '0'}
}

// compoundParts are the German day parts that can be glued to a weekday or a
// relative day ("Dienstagnachmittag", "Montagmorgen" = Monday morning).
var compoundParts = []struct{ suffix, as string }{
	{"vormittag", "vormittags"}, {"nachmittag", "nachmittags"}, {"mittag", "mittags"},
	{"abend", "abends"}, {"morgen", "morgens"}, {"frueh", "frueh"}, {"nacht", "nachts"},
}

func splitWord(w string) []token {
	for _, cp := range compoundParts {
		for _, cs := range []string{cp.suffix, cp.suffix + "s"} {
			head, ok := strings.CutSuffix(w, cs)
			if !ok || head == "" {
				continue
			}
			if _, wd := vocabDE.weekdays[head]; wd || head == "heute" || head == "morgen" {
				return []token{{kind: tWord, s: head}, {kind: tWord, s: cp.as}}
			}
		}
	}
	return []token{{kind: tWord, s: w}}
}

func timeMonth(m int) time.Month { return time.Month(m) }
