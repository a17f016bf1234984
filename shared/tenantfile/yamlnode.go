package tenantfile

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The file is read as a yaml.Node tree rather than unmarshalled into
// structs: only the tree knows the line of every value, and walking it
// ourselves lets us reject unknown keys with a suggestion, keep going after
// the first problem, and never trust YAML's implicit typing (an unquoted
// +4930123456 is an integer to YAML, a phone number to us).

// maxAliasDepth bounds alias chains so a crafted file cannot loop.
const maxAliasDepth = 8

type parser struct {
	problems Problems
}

func (p *parser) add(n *yaml.Node, path, format string, args ...any) {
	pr := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		pr.Line, pr.Column = n.Line, n.Column
	}
	p.problems = append(p.problems, pr)
}

// resolve follows aliases; it returns nil for an alias chain that is too
// deep (reported).
func (p *parser) resolve(n *yaml.Node, path string) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i >= maxAliasDepth || n.Alias == nil {
			p.add(n, path, "alias chain too deep")
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// fields is a checked mapping: every key is known, none is repeated.
type fields struct {
	node *yaml.Node
	path string
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node // key nodes, for lines of "missing"/ref problems
}

// mapping reads a mapping node, reporting unknown and duplicate keys.
// ok is false when n is not a mapping at all.
func (p *parser) mapping(n *yaml.Node, path string, allowed ...string) (fields, bool) {
	f := fields{node: n, path: path, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	n = p.resolve(n, path)
	if n == nil {
		return f, false
	}
	f.node = n
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "expected a mapping (key: value lines), found %s", describe(n))
		return f, false
	}
	known := make(map[string]bool, len(allowed))
	for _, k := range allowed {
		known[k] = true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		kn = p.resolve(kn, path)
		if kn == nil {
			continue
		}
		if kn.Kind != yaml.ScalarNode {
			p.add(kn, path, "keys must be plain words")
			continue
		}
		key := kn.Value
		switch {
		case key == "<<":
			p.add(kn, path, "YAML merge keys (<<) are not supported: write the values out")
		case !known[key]:
			p.add(kn, join(path, key), "unknown key%s", suggest(key, allowed))
		case f.vals[key] != nil:
			p.add(kn, join(path, key), "given twice (first on line %d)", f.keys[key].Line)
		default:
			f.vals[key] = vn
			f.keys[key] = kn
		}
	}
	return f, true
}

// get returns the value of key, or nil when the key is absent or null.
func (f fields) get(key string) *yaml.Node {
	v := f.vals[key]
	if isNull(v) {
		return nil
	}
	return v
}

func (f fields) has(key string) bool { return f.get(key) != nil }

// line is the line of key, or of the mapping when the key is absent (for
// "missing" problems).
func (f fields) at(key string) *yaml.Node {
	if k := f.keys[key]; k != nil {
		return k
	}
	return f.node
}

func (p *parser) require(f fields, key string) *yaml.Node {
	v := f.get(key)
	if v == nil {
		p.add(f.at(key), join(f.path, key), "required")
	}
	return v
}

// sequence reads a list; a missing/null node is an empty list.
func (p *parser) sequence(n *yaml.Node, path string) []*yaml.Node {
	if isNull(n) {
		return nil
	}
	n = p.resolve(n, path)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n, path, "expected a list (lines starting with \"- \"), found %s", describe(n))
		return nil
	}
	return n.Content
}

// scalar returns the text of a scalar exactly as written.
func (p *parser) scalar(n *yaml.Node, path string) (string, bool) {
	n = p.resolve(n, path)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.add(n, path, "expected a single value, found %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) str(f fields, key string, required bool, maxLen int) string {
	path := join(f.path, key)
	n := f.get(key)
	if n == nil {
		if required {
			p.add(f.at(key), path, "required")
		}
		return ""
	}
	s, ok := p.scalar(n, path)
	if !ok {
		return ""
	}
	s = strings.TrimSpace(s)
	if s == "" {
		p.add(n, path, "must not be empty")
	} else if n := len([]rune(s)); n > maxLen {
		p.add(f.get(key), path, "too long (%d characters, at most %d)", n, maxLen)
	}
	return s
}

var intPattern = regexp.MustCompile(`^-?[0-9]+$`)

// integer reads a whole number within [min, max]; def is returned when the
// key is absent.
func (p *parser) integer(f fields, key string, def, min, max int64) int64 {
	path := join(f.path, key)
	n := f.get(key)
	if n == nil {
		return def
	}
	s, ok := p.scalar(n, path)
	if !ok {
		return def
	}
	s = strings.ReplaceAll(s, "_", "")
	if !intPattern.MatchString(s) {
		p.add(n, path, "must be a whole number, found %q", clip(s))
		return def
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < min || v > max {
		p.add(n, path, "must be between %d and %d, found %s", min, max, clip(s))
		return def
	}
	return v
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	s, ok := p.scalar(n, path)
	if !ok {
		return false, false
	}
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	p.add(n, path, "must be true or false, found %q", clip(s))
	return false, false
}

var euroPattern = regexp.MustCompile(`^([0-9]{1,7})(?:\.([0-9]{1,2}))?$`)

// euros reads an amount like 10 or 10.50 into cents without going through
// a float (0.1 + 0.2 must stay 30 cents).
func (p *parser) euros(f fields, key string) int64 {
	path := join(f.path, key)
	n := f.get(key)
	if n == nil {
		return 0
	}
	s, ok := p.scalar(n, path)
	if !ok {
		return 0
	}
	m := euroPattern.FindStringSubmatch(s)
	if m == nil {
		hint := ""
		if strings.Contains(s, ",") {
			hint = " (use a dot for cents: 10.50)"
		} else if strings.HasPrefix(s, "-") {
			hint = " (amounts cannot be negative)"
		}
		p.add(n, path, "must be an amount in euros like 10 or 10.50, found %q%s", clip(s), hint)
		return 0
	}
	whole, _ := strconv.ParseInt(m[1], 10, 64)
	cents := int64(0)
	if m[2] != "" {
		frac := m[2]
		if len(frac) == 1 {
			frac += "0"
		}
		cents, _ = strconv.ParseInt(frac, 10, 64)
	}
	return whole*100 + cents
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", clip(n.Value))
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

// clip keeps echoed values short in messages.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// suggest names the closest allowed key (a likely typo) or lists them all.
func suggest(key string, allowed []string) string {
	best, bestD := "", 1<<30
	for _, a := range allowed {
		if d := levenshtein(key, a); d < bestD {
			best, bestD = a, d
		}
	}
	if best != "" && bestD <= 2+len(key)/4 {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	sorted := append([]string(nil), allowed...)
	sort.Strings(sorted)
	return " (allowed: " + strings.Join(sorted, ", ") + ")"
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
