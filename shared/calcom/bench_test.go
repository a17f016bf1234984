package calcom

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// slotsBody is a realistic answer: 14 days of 30-minute slots 9–18 in Berlin.
func slotsBody(tb testing.TB, format string) []byte {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		tb.Fatal(err)
	}
	days := map[string][]map[string]string{}
	for d := 0; d < 14; d++ {
		day := time.Date(2027, 3, 1+d, 0, 0, 0, 0, loc)
		for m := 9 * 60; m < 18*60; m += 30 {
			st := day.Add(time.Duration(m) * time.Minute)
			item := map[string]string{"start": st.Format("2006-01-02T15:04:05.000-07:00")}
			if format == "range" {
				item["end"] = st.Add(30 * time.Minute).Format("2006-01-02T15:04:05.000-07:00")
			}
			days[day.Format("2006-01-02")] = append(days[day.Format("2006-01-02")], item)
		}
	}
	b, err := json.Marshal(days)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseSlotsData(t *testing.T) {
	for _, format := range []string{"time", "range"} {
		got, err := ParseSlotsData(slotsBody(t, format))
		if err != nil || len(got) != 14*18 {
			t.Fatalf("%s: %d %v", format, len(got), err)
		}
		for i := 1; i < len(got); i++ {
			if !got[i-1].Before(got[i]) || got[i].Location() != time.UTC {
				t.Fatalf("%s: not sorted UTC at %d", format, i)
			}
		}
	}
	got, err := ParseSlotsData([]byte(`{"2027-03-01":["2027-03-01T09:00:00Z",{"start":"2027-03-01T08:00:00.000+00:00"},{"start":"2027-03-01T10:00:00+01:00"}]}`))
	if err != nil || len(got) != 2 || got[0].Hour() != 8 || got[1].Hour() != 9 {
		t.Fatalf("mixed shapes / dedup: %v %v", got, err)
	}
	for _, bad := range []string{`[]`, `{"d":[{"start":"tomorrow"}]}`, `{"d":[{}]}`, `{"d":[7]}`} {
		if _, err := ParseSlotsData([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if got, err := ParseSlotsData([]byte(`{}`)); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
}

func BenchmarkParseSlotsData(b *testing.B) {
	for _, format := range []string{"time", "range"} {
		body := slotsBody(b, format)
		b.Run(fmt.Sprintf("%s/14days", format), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := ParseSlotsData(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
