package main

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
)

// latencySVG draws the gateway-time distribution of every function in
// every run on a log axis: a box from p50 to p95, a whisker to p99, a dot
// at the maximum, and the 5 ms and 10 ms budgets as lines.
func latencySVG(res *Results) string {
	type row struct {
		label string
		p     Percentiles
		group int
	}
	var rows []row
	for i, r := range res.Runs {
		names := make([]string, 0, len(r.Functions))
		for n := range r.Functions {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			rows = append(rows, row{fmt.Sprintf("Cal.com +%gms · %s calls · %s", r.CalcomLatencyMS, level(r), n), r.Functions[n].GatewayMS, i})
		}
		if r.CheckCached.Count > 0 {
			rows = append(rows, row{fmt.Sprintf("Cal.com +%gms · %s calls · check (warm cache)", r.CalcomLatencyMS, level(r)), r.CheckCached.GatewayMS, i})
		}
	}
	if in := res.WebhookIngest; in != nil {
		rows = append(rows, row{fmt.Sprintf("webhook ingest · %d concurrent · call_ended 30 KB", in.Concurrency), in.Stats.GatewayMS, len(res.Runs)})
	}
	const left, right, top, rowH, axisH = 420, 40, 50, 18, 40
	width := 1100
	plotW := float64(width - left - right)
	height := top + len(rows)*rowH + axisH
	lo, hi := 0.05, 10.0
	for _, r := range rows {
		hi = math.Max(hi, r.p.Max)
	}
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	x := func(v float64) float64 {
		v = math.Max(v, lo)
		return float64(left) + plotW*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">Gateway time per request (Cal.com time excluded), ms, log scale</text>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="36" fill="#555">box p50–p95, whisker to p99, dot = max; %d × %s; %s</text>`+"\n",
		res.Machine.NumCPU, html.EscapeString(res.Machine.CPUModel), html.EscapeString(res.StartedAt))
	// grid
	for e := math.Log10(lo); e <= math.Log10(hi)+1e-9; e++ {
		for _, m := range []float64{1, 2, 5} {
			v := math.Pow(10, math.Floor(e)) * m
			if v < lo || v > hi {
				continue
			}
			gx := x(v)
			stroke := "#eee"
			if m == 1 {
				stroke = "#ccc"
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", gx, top-4, gx, top+len(rows)*rowH, stroke)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%g</text>`+"\n", gx, top+len(rows)*rowH+14, v)
		}
	}
	for _, budget := range []float64{5, 10} {
		bx := x(budget)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d33" stroke-dasharray="4 3"/>`+"\n", bx, top-4, bx, top+len(rows)*rowH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#d33" text-anchor="middle">%g ms budget</text>`+"\n", bx, top-8, budget)
	}
	colors := []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"}
	for i, r := range rows {
		y := float64(top + i*rowH)
		c := colors[r.group%len(colors)]
		if i%2 == 0 {
			fmt.Fprintf(&b, `<rect x="0" y="%.1f" width="%d" height="%d" fill="#fafafa"/>`+"\n", y, width, rowH)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, y+12, html.EscapeString(r.label))
		mid := y + rowH/2
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x(r.p.P95), mid, x(r.p.P99), mid, c)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x(r.p.P99), mid-4, x(r.p.P99), mid+4, c)
		w := math.Max(x(r.p.P95)-x(r.p.P50), 1.5)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="10" fill="%s" opacity="0.8"><title>p50 %.2f · p95 %.2f · p99 %.2f · max %.2f ms</title></rect>`+"\n",
			x(r.p.P50), mid-5, w, c, r.p.P50, r.p.P95, r.p.P99, r.p.Max)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="none" stroke="%s"/>`+"\n", x(r.p.Max), mid, c)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
