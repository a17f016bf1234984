package tenantfile

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a tenant file, located by line so the
// person who wrote the file can find it.
type Problem struct {
	Line    int    // 1-based; 0 when the problem concerns the whole file
	Column  int    // 1-based; 0 when unknown
	Path    string // e.g. "branches[0].time_zone"; "" for the whole file
	Message string // never contains personal data
}

func (p Problem) String() string { return p.format("") }

func (p Problem) format(file string) string {
	var b strings.Builder
	if file != "" {
		b.WriteString(file)
		b.WriteByte(':')
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:", p.Line)
	} else if file == "" {
		b.WriteString("file:")
	}
	b.WriteByte(' ')
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one file, ordered by line. Parse
// wraps it in a *booking.Error of kind Invalid; errors.As finds it.
type Problems []Problem

func (ps Problems) Error() string {
	if len(ps) == 1 {
		return ps[0].String()
	}
	return fmt.Sprintf("%d problems, first: %s", len(ps), ps[0].String())
}

// Format renders one "file:line: path: message" line per problem, the way
// compilers do, so editors can jump to them.
func (ps Problems) Format(file string) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.format(file))
		b.WriteByte('\n')
	}
	return b.String()
}

func (ps Problems) sorted() Problems {
	out := append(Problems(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Column < out[j].Column
	})
	return out
}
