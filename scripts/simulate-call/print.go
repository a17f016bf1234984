package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
)

// printer writes the conversation as a readable script.
type printer struct {
	w     io.Writer
	quiet bool // --json: only the report
	call  string
	words []int // words of each agent turn, in order
}

// wordCount counts spoken words: tokens with a letter or digit.
func wordCount(s string) int {
	n := 0
	for _, f := range strings.Fields(s) {
		if strings.IndexFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			n++
		}
	}
	return n
}

// agent prints what the agent says with its length: a caller hears it in
// one go, so long answers are what to shorten first.
func (p *printer) agent(msg string) {
	n := wordCount(msg)
	p.words = append(p.words, n)
	p.printf("  Agent:   %s  [%d Wörter]\n", msg, n)
}

// Words summarises the agent's turns: count, average and longest.
type Words struct {
	Turns   int     `json:"agent_turns"`
	Average float64 `json:"average_words"`
	Longest int     `json:"longest_turn_words"`
}

func (p *printer) summary() Words {
	w := Words{Turns: len(p.words)}
	total := 0
	for _, n := range p.words {
		total += n
		w.Longest = max(w.Longest, n)
	}
	if w.Turns > 0 {
		w.Average = float64(total) / float64(w.Turns)
	}
	p.printf("\nAgent turns: %d, on average %.1f words, the longest %d words.\n", w.Turns, w.Average, w.Longest)
	return w
}

func (p *printer) printf(format string, args ...any) {
	if !p.quiet {
		fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) header(target string) {
	p.printf("Simulated Retell calls against %s\n", target)
}

func (p *printer) scenario(name string) {
	p.call = ""
	p.printf("\n══ Szenario: %s ══\n", name)
}

func (p *printer) step(s callsim.Step) {
	if s.CallID != p.call {
		p.call = s.CallID
		p.printf("\n  ── Anruf %s ──\n", s.CallID)
	}
	if s.Said != "" {
		p.printf("  Anrufer: %s\n", s.Said)
	}
	mark := "✓"
	if s.Problem != "" {
		mark = "✗ " + s.Problem
	}
	result := fmt.Sprintf("HTTP %d", s.Status)
	if s.OK != nil {
		result += fmt.Sprintf(" ok=%v", *s.OK)
	}
	if s.Reason != "" {
		result += " reason=" + s.Reason
	}
	p.printf("      → %-22s %-34s %7.1f ms  %s (%s)\n", s.Function, result, s.LatencyMS, mark, s.Expect)
	if s.Message != "" && (!strings.HasPrefix(s.Function, "call_") || s.Function == "call_inbound") && s.Status < 300 {
		p.agent(s.Message)
	} else if s.Message != "" && s.Status >= 300 {
		p.printf("  Gateway: %s\n", s.Message)
	}
}

func (p *printer) verdict(o callsim.Outcome) {
	if o.OK() {
		p.printf("\n  ⇒ %s: every step behaved\n", o.Scenario)
		return
	}
	p.printf("\n  ⇒ %s: %d problem(s)\n", o.Scenario, len(o.Problems))
	for _, pr := range o.Problems {
		p.printf("     - %s\n", pr)
	}
}

func (p *printer) stored(rep *Report, local bool) {
	if local {
		p.printf("\n══ Stored (MySQL store and Cal.com sandbox) ══\n")
	} else {
		p.printf("\n══ Booked (as the API answered) ══\n")
	}
	for _, a := range rep.Stored {
		p.printf("  appointment #%-4d %-10s %-18s %s  %s", a.AppointmentID, a.Scenario, a.Service, a.Start, a.Status)
		if a.Customer != "" {
			p.printf("  customer %s", a.Customer)
		}
		if len(a.CalcomUIDs) > 0 {
			p.printf("\n      Cal.com: ")
			for i, uid := range a.CalcomUIDs {
				st := ""
				if i < len(a.CalcomStatus) {
					st = a.CalcomStatus[i]
				}
				p.printf("%s (%s)  ", uid, st)
			}
		}
		p.printf("\n")
	}
	for _, c := range rep.Calls {
		p.printf("  call %-28s %-9s transcript %5d chars  analysis=%v  customer linked=%v\n", c.CallID, c.Status, c.TranscriptChars, c.Summary, c.CustomerLinked)
	}
	if rep.OK {
		p.printf("\nAll scenarios behaved.\n")
	} else {
		p.printf("\nSOME STEPS DID NOT BEHAVE (exit status 1).\n")
	}
}
