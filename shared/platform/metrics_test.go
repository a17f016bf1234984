package platform

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

type emfDoc struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct{ Name, Unit string }
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

func parseEMF(t *testing.T, out string) []map[string]json.RawMessage {
	t.Helper()
	var docs []map[string]json.RawMessage
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		docs = append(docs, m)
	}
	return docs
}

func TestEMFFlush(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	m := NewMetrics(&buf, Namespace, map[string]string{DimFunction: "book-appointment"}).WithClock(booking.FixedClock(now))
	m.Count(MetricRequests, 1)
	m.Count(MetricRequests, 2)
	m.Duration(MetricLatency, 1500*time.Microsecond)
	m.Duration(MetricLatency, 3*time.Millisecond)
	m.Count(MetricBookingOutcome, 1, DimOutcome, "booked")
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	docs := parseEMF(t, buf.String())
	if len(docs) != 2 {
		t.Fatalf("want one line per dimension set (2), got %d:\n%s", len(docs), buf.String())
	}
	var meta emfDoc
	json.Unmarshal([]byte(strings.Split(buf.String(), "\n")[0]), &meta)
	d := meta.AWS.CloudWatchMetrics[0]
	if meta.AWS.Timestamp != now.UnixMilli() || d.Namespace != Namespace || len(d.Dimensions) != 1 || d.Dimensions[0][0] != DimFunction {
		t.Fatalf("metadata: %+v", meta)
	}
	if len(d.Metrics) != 2 || d.Metrics[0].Name != MetricRequests || d.Metrics[0].Unit != UnitCount || d.Metrics[1].Unit != UnitMilliseconds {
		t.Fatalf("metric declarations: %+v", d.Metrics)
	}
	if string(docs[0][MetricRequests]) != "3" || string(docs[0][MetricLatency]) != "[1.5,3]" || string(docs[0][DimFunction]) != `"book-appointment"` {
		t.Fatalf("values: %s", buf.String())
	}
	if string(docs[1][DimOutcome]) != `"booked"` || string(docs[1][MetricBookingOutcome]) != "1" {
		t.Fatalf("second set: %s", buf.String())
	}
	// Flushed means reset.
	buf.Reset()
	m.Flush()
	if buf.Len() != 0 {
		t.Fatalf("second flush wrote %s", buf.String())
	}
}

// EMF allows at most 100 values per metric per document.
func TestEMFSplitsLongValueLists(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics(&buf, Namespace, nil)
	for range 250 {
		m.Duration(MetricCalcomLatency, time.Millisecond)
	}
	m.Flush()
	docs := parseEMF(t, buf.String())
	if len(docs) != 3 {
		t.Fatalf("want 3 documents, got %d", len(docs))
	}
	total := 0
	for _, d := range docs {
		var vs []float64
		if err := json.Unmarshal(d[MetricCalcomLatency], &vs); err != nil || len(vs) > 100 {
			t.Fatalf("bad chunk %s", d[MetricCalcomLatency])
		}
		total += len(vs)
	}
	if total != 250 {
		t.Fatalf("lost values: %d", total)
	}
}

func TestMetricNamesAreOneList(t *testing.T) {
	names := AllMetricNames()
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			t.Fatalf("empty or duplicate metric name %q", n)
		}
		seen[n] = true
	}
	for _, want := range []string{MetricRequests, MetricLatency, Metric5xx, MetricWebhookSignatureFailures, MetricBookingOutcome,
		MetricCalcomLatency, MetricCalcomErrors, MetricCacheHit, MetricCacheMiss, MetricIdempotentReplay, MetricDLQDepth,
		MetricJobFailures, MetricWebhookEvents, MetricPanics, Metric4xx, MetricQueueDepth, MetricJobsProcessed} {
		if !seen[want] {
			t.Errorf("%s missing from AllMetricNames", want)
		}
	}
	if MetricWebhookSignatureFailures != "WebhookSignatureFailures" {
		t.Fatal("renaming a metric breaks alarms")
	}
	for _, d := range MetricDefs() {
		if len(d.Dimensions) == 0 || d.Dimensions[0] != DimFunction || d.Unit == "" {
			t.Errorf("%s: every metric is per function and has a unit", d.Name)
		}
	}
}

func BenchmarkEMF(b *testing.B) {
	m := NewMetrics(io.Discard, Namespace, map[string]string{DimFunction: "book-appointment"})
	b.ReportAllocs()
	for b.Loop() {
		m.Count(MetricRequests, 1)
		m.Duration(MetricLatency, 2*time.Millisecond)
		m.Count(MetricBookingOutcome, 1, DimOutcome, "booked")
		m.Flush()
	}
}
