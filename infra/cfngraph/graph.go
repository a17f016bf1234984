// Package cfngraph builds the dependency graph CloudFormation derives from a
// template and finds its cycles, without Python or AWS: an edge A -> B means
// A cannot be created before B. Edges come from Ref, Fn::GetAtt, Fn::Sub
// (${B} and ${B.Attr}) anywhere in A's Properties, from DependsOn, and from
// A's UpdatePolicy and CreationPolicy (a CodeDeploy alias update policy names
// its deployment group: the alias then waits for the group).
package cfngraph

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Edge is one dependency of a resource and where the template states it.
type Edge struct {
	To  string
	Via string // e.g. "Ref in Properties", "DependsOn", "Fn::GetAtt in UpdatePolicy"
}

// Graph is the resources of one template and their dependencies.
type Graph struct {
	Edges map[string][]Edge // by logical id; every resource has an entry
}

type resource struct {
	DependsOn      any `json:"DependsOn"`
	Properties     any `json:"Properties"`
	UpdatePolicy   any `json:"UpdatePolicy"`
	CreationPolicy any `json:"CreationPolicy"`
}

// Parse reads a JSON template (what CDK synthesizes).
func Parse(template []byte) (*Graph, error) {
	var t struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(template, &t); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	g := &Graph{Edges: map[string][]Edge{}}
	for id := range t.Resources {
		g.Edges[id] = nil
	}
	for id, r := range t.Resources {
		seen := map[Edge]bool{}
		add := func(e Edge) {
			if _, ok := t.Resources[e.To]; ok && !seen[e] {
				seen[e] = true
				g.Edges[id] = append(g.Edges[id], e)
			}
		}
		switch d := r.DependsOn.(type) {
		case string:
			add(Edge{To: d, Via: "DependsOn"})
		case []any:
			for _, x := range d {
				if s, ok := x.(string); ok {
					add(Edge{To: s, Via: "DependsOn"})
				}
			}
		}
		for _, part := range []struct {
			name string
			v    any
		}{{"Properties", r.Properties}, {"UpdatePolicy", r.UpdatePolicy}, {"CreationPolicy", r.CreationPolicy}} {
			walk(part.v, func(fn, to string) { add(Edge{To: to, Via: fn + " in " + part.name}) })
		}
		sort.Slice(g.Edges[id], func(i, j int) bool {
			a, b := g.Edges[id][i], g.Edges[id][j]
			return a.To < b.To || a.To == b.To && a.Via < b.Via
		})
	}
	return g, nil
}

// subRef matches ${Name} and ${Name.Attr}; ${!Literal} is an escape, not a reference.
var subRef = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// walk calls ref(function, logicalID) for every reference in v.
func walk(v any, ref func(fn, to string)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			walk(e, ref)
		}
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				switch k {
				case "Ref":
					if s, ok := arg.(string); ok {
						ref("Ref", s)
						return
					}
				case "Fn::GetAtt":
					switch a := arg.(type) {
					case string: // "Name.Attr"
						ref("Fn::GetAtt", strings.SplitN(a, ".", 2)[0])
						return
					case []any:
						if len(a) > 0 {
							if s, ok := a[0].(string); ok {
								ref("Fn::GetAtt", s)
							}
						}
						walk(a[1:], ref)
						return
					}
				case "Fn::Sub":
					var text string
					vars := map[string]any{}
					switch a := arg.(type) {
					case string:
						text = a
					case []any:
						if len(a) > 0 {
							text, _ = a[0].(string)
						}
						if len(a) > 1 {
							vars, _ = a[1].(map[string]any)
							walk(a[1], ref)
						}
					}
					for _, m := range subRef.FindAllStringSubmatch(text, -1) {
						name := strings.SplitN(m[1], ".", 2)[0]
						if _, local := vars[m[1]]; local {
							continue
						}
						ref("Fn::Sub", name)
					}
					return
				}
			}
		}
		for _, e := range x {
			walk(e, ref)
		}
	}
}

// Cycles returns every cycle, each as a path that starts and ends at the same
// resource (e.g. [A B C A]), one per strongly connected component, in a
// stable order.
func (g *Graph) Cycles() [][]string {
	var out [][]string
	for _, comp := range g.components() {
		in := map[string]bool{}
		for _, id := range comp {
			in[id] = true
		}
		if len(comp) == 1 && !g.hasEdge(comp[0], comp[0]) {
			continue
		}
		out = append(out, g.cycleWithin(comp[0], in))
	}
	return out
}

// Describe names a cycle with the reason of every step, e.g.
// "A -[Ref in Properties]-> B -[DependsOn]-> A".
func (g *Graph) Describe(cycle []string) string {
	var b strings.Builder
	for i, id := range cycle {
		b.WriteString(id)
		if i+1 < len(cycle) {
			var vias []string
			for _, e := range g.Edges[id] {
				if e.To == cycle[i+1] {
					vias = append(vias, e.Via)
				}
			}
			fmt.Fprintf(&b, " -[%s]-> ", strings.Join(vias, ", "))
		}
	}
	return b.String()
}

func (g *Graph) hasEdge(from, to string) bool {
	for _, e := range g.Edges[from] {
		if e.To == to {
			return true
		}
	}
	return false
}

func (g *Graph) ids() []string {
	ids := make([]string, 0, len(g.Edges))
	for id := range g.Edges {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// components is Tarjan's strongly connected components, each sorted, the
// list sorted by first id.
func (g *Graph) components() [][]string {
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var out [][]string
	n := 0
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = n, n
		n++
		stack = append(stack, v)
		onStack[v] = true
		for _, e := range g.Edges[v] {
			if _, seen := index[e.To]; !seen {
				visit(e.To)
				low[v] = min(low[v], low[e.To])
			} else if onStack[e.To] {
				low[v] = min(low[v], index[e.To])
			}
		}
		if low[v] == index[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			sort.Strings(comp)
			out = append(out, comp)
		}
	}
	for _, id := range g.ids() {
		if _, seen := index[id]; !seen {
			visit(id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// cycleWithin is the shortest cycle through start inside one component
// (breadth-first, so the path names as few resources as possible).
func (g *Graph) cycleWithin(start string, in map[string]bool) []string {
	prev := map[string]string{}
	queue := []string{start}
	visited := map[string]bool{}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, e := range g.Edges[v] {
			if !in[e.To] {
				continue
			}
			if e.To == start {
				path := []string{start}
				for w := v; w != start; w = prev[w] {
					path = append(path, w)
				}
				// path is start, then v back to start's successor: reverse the tail.
				for i, j := 1, len(path)-1; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				return append(path, start)
			}
			if !visited[e.To] {
				visited[e.To] = true
				prev[e.To] = v
				queue = append(queue, e.To)
			}
		}
	}
	return []string{start, start} // unreachable for a real component
}
