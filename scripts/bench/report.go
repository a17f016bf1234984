package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Budgets of design §12, as numbers.
const (
	budgetInCallP99MS   = 10.0
	budgetCachedP99MS   = 5.0
	budgetColdStartMS   = 50.0
	budgetSizeBytes     = 32 << 20
	budgetZipBytes      = 10 << 20
	budgetCalcomPerCall = 2.0
	budgetIngestPerSec  = 500.0
	budgetMemoryKB      = 128 << 10
)

// inCallFunctions are the functions a simulated call invokes.
var inCallFunctions = []string{"retell-inbound", "check-availability", "book-appointment"}

func check(figure, budget, measured string, met bool) BudgetCheck {
	return BudgetCheck{Figure: figure, Budget: budget, Measured: measured, Met: &met}
}

func unmeasured(figure, budget, why string) BudgetCheck {
	return BudgetCheck{Figure: figure, Budget: budget, Measured: why}
}

func budgets(res *Results) []BudgetCheck {
	var out []BudgetCheck
	top := 0
	for _, r := range res.Runs {
		if !r.Saturation && r.Concurrency > top {
			top = r.Concurrency
		}
	}
	for _, r := range res.Runs {
		if r.Concurrency != top || r.Saturation {
			continue
		}
		for _, fn := range inCallFunctions {
			fs, ok := r.Functions[fn]
			if !ok || fs.Count == 0 {
				continue
			}
			out = append(out, check(fmt.Sprintf("%s gateway p99, %d calls, Cal.com +%gms", fn, top, r.CalcomLatencyMS),
				"≤ 10 ms", fmt.Sprintf("%.2f ms (n=%d, %d errors)", fs.GatewayMS.P99, fs.Count, fs.Errors),
				fs.GatewayMS.P99 <= budgetInCallP99MS && fs.Errors == 0))
		}
	}
	if top != 200 && len(res.Runs) > 0 {
		out = append(out, unmeasured("in-call gateway p99 at 200 calls", "≤ 10 ms", fmt.Sprintf("not run (highest level %d)", top)))
	}
	seen := map[int]bool{}
	for _, r := range res.Runs {
		if seen[r.Concurrency] || r.CheckCached.Count == 0 || r.Saturation {
			continue
		}
		seen[r.Concurrency] = true
		cc := r.CheckCached
		out = append(out, check(fmt.Sprintf("check-availability from cache p99, %d calls", r.Concurrency), "≤ 5 ms, 0 Cal.com requests",
			fmt.Sprintf("%.2f ms, %d Cal.com requests (n=%d)", cc.GatewayMS.P99, cc.CalcomRequests, cc.Count),
			cc.GatewayMS.P99 <= budgetCachedP99MS && cc.CalcomRequests == 0 && cc.Errors == 0))
	}
	for _, r := range res.Runs {
		if r.Booked == 0 || r.Saturation {
			continue
		}
		out = append(out, check(fmt.Sprintf("Cal.com requests per booked call, %d calls, +%gms", r.Concurrency, r.CalcomLatencyMS), "≤ 2",
			fmt.Sprintf("%.2f (cache hit rate %.0f%%)", r.CalcomPerBooked, 100*r.CacheHitRate), r.CalcomPerBooked <= budgetCalcomPerCall))
	}
	for _, bs := range res.Bootstraps {
		if bs.SizeBytes == 0 {
			out = append(out, unmeasured("bootstrap size, "+bs.Function, "≤ 32 MB, zip ≤ 10 MB", bs.Note))
			continue
		}
		out = append(out, check(fmt.Sprintf("bootstrap size, %s (linux/%s)", bs.Function, bs.Arch), "≤ 32 MB, zip ≤ 10 MB",
			fmt.Sprintf("%.1f MB, zip %.1f MB", mb(bs.SizeBytes), mb(bs.ZipBytes)), bs.SizeBytes <= budgetSizeBytes && bs.ZipBytes <= budgetZipBytes))
	}
	var peak int64
	peakFn := ""
	for _, bs := range res.Bootstraps {
		if bs.ColdStarts == 0 {
			if bs.SizeBytes > 0 {
				out = append(out, unmeasured("cold start, "+bs.Function, "≤ 50 ms", bs.Note))
			}
			continue
		}
		if bs.Job {
			// A scheduled or deploy-time job's first answer is its whole
			// job; its start-up is the init.
			out = append(out, check("cold start (init), "+bs.Function, "≤ 50 ms",
				fmt.Sprintf("init %.1f ms median of %d (first run of the job %.1f ms), %s", bs.InitMS, bs.ColdStarts, bs.ColdMS, bs.Status),
				bs.InitMS <= budgetColdStartMS))
		} else {
			out = append(out, check("cold start, "+bs.Function, "≤ 50 ms",
				fmt.Sprintf("%.1f ms median of %d (init %.1f, max %.1f), %s", bs.ColdMS, bs.ColdStarts, bs.InitMS, bs.ColdMaxMS, bs.Status),
				bs.ColdMS <= budgetColdStartMS))
		}
		if bs.PeakRSSKB > peak {
			peak, peakFn = bs.PeakRSSKB, bs.Function
		}
	}
	if in := res.WebhookIngest; in != nil {
		out = append(out, check(fmt.Sprintf("webhook ingest, call_ended with %d KB transcript, %d concurrent", in.TranscriptBytes>>10, in.Concurrency),
			"≥ 500 events/s", fmt.Sprintf("%.0f events/s (%d events, %d errors)", in.EventsPerSecond, in.Events, in.Stats.Errors),
			in.EventsPerSecond >= budgetIngestPerSec && in.Stats.Errors == 0))
	}
	if peak > 0 {
		out = append(out, check("Lambda memory (peak RSS of a bootstrap after 3 invocations)", "fits 128 MB",
			fmt.Sprintf("%.1f MB (%s)", float64(peak)/1024, peakFn), peak <= budgetMemoryKB))
	} else {
		out = append(out, unmeasured("Lambda memory", "fits 128 MB", "no bootstrap was run"))
	}
	return out
}

func level(r Run) string {
	if r.Saturation {
		return fmt.Sprintf("%d sat", r.Concurrency)
	}
	return fmt.Sprintf("%d", r.Concurrency)
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func printTable(w io.Writer, res *Results) {
	m := res.Machine
	fmt.Fprintf(w, "\nMachine: %d × %s, %s/%s, %s; MySQL %s, Redis %s\n", m.NumCPU, m.CPUModel, m.GOOS, m.GOARCH, m.GoVersion, m.MySQL, m.Redis)
	fmt.Fprintf(w, "\nGateway time per function (Cal.com time excluded), ms:\n")
	fmt.Fprintf(w, "  (think = pause between a call's requests; sat = back to back, for throughput only)\n")
	fmt.Fprintf(w, "  %-8s %-9s %-32s %6s %7s %7s %7s %7s  %9s %7s %6s\n", "Cal.com", "calls", "function", "n", "p50", "p95", "p99", "max", "Cal.com50", "allocKB", "errors")
	for _, r := range res.Runs {
		names := make([]string, 0, len(r.Functions))
		for n := range r.Functions {
			names = append(names, n)
		}
		sort.Strings(names)
		row := func(name string, fs FuncStats) {
			fmt.Fprintf(w, "  +%-7g %-9s %-32s %6d %7.2f %7.2f %7.2f %7.2f  %9.2f %7s %6d\n", r.CalcomLatencyMS, level(r), name, fs.Count,
				fs.GatewayMS.P50, fs.GatewayMS.P95, fs.GatewayMS.P99, fs.GatewayMS.Max, fs.CalcomMS.P50, kb(fs.AllocBytes), fs.Errors)
		}
		for _, n := range names {
			row(n, r.Functions[n])
		}
		row("check-availability (warm cache)", r.CheckCached)
		fmt.Fprintf(w, "  %-14s %d calls in %.1f s = %.1f calls/s, %.0f requests/s; booked %d, declined %v; cache hit rate %.0f%%; Cal.com %.2f/booked call (+%d prefetch); %s B/request\n",
			"", r.Calls, r.WallSeconds, r.CallsPerSecond, r.RequestsPerSec, r.Booked, r.Declined, 100*r.CacheHitRate, r.CalcomPerBooked, r.CalcomWorker, kb(r.AllocBytes)+"K")
	}
	if in := res.WebhookIngest; in != nil {
		fmt.Fprintf(w, "\nWebhook ingest: %d call_ended events (%d KB transcripts) at %d concurrent: %.0f events/s, gateway p50 %.2f / p99 %.2f ms, %d errors\n",
			in.Events, in.TranscriptBytes>>10, in.Concurrency, in.EventsPerSecond, in.Stats.GatewayMS.P50, in.Stats.GatewayMS.P99, in.Stats.Errors)
	}
	fmt.Fprintf(w, "\nBudgets (design §12):\n")
	width := 20
	for _, b := range res.Budgets {
		if len([]rune(b.Figure)) > width {
			width = len([]rune(b.Figure))
		}
	}
	for _, b := range res.Budgets {
		verdict := "n/a"
		if b.Met != nil {
			verdict = "met"
			if !*b.Met {
				verdict = "MISSED"
			}
		}
		fmt.Fprintf(w, "  %-6s %s%s  %-28s %s\n", verdict, b.Figure, strings.Repeat(" ", width-len([]rune(b.Figure))), b.Budget, b.Measured)
	}
	if res.Stopped != "" {
		fmt.Fprintf(w, "\nSTOPPED EARLY: %s\n", res.Stopped)
	}
}

func kb(b uint64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(b)/1024)
}
