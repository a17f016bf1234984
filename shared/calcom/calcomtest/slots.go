package calcomtest

import (
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// freeStarts lists the bookable starts of et in [from, to] (both
// inclusive, like Cal.com), honouring the schedule, the minimum notice and
// every active booking of the same host. ignoreUID frees one booking (the
// one being rescheduled). The caller holds s.mu.
func (s *Sandbox) freeStarts(et EventType, from, to time.Time, lengthMin int, ignoreUID string) []time.Time {
	loc, _ := time.LoadLocation(et.TimeZone)
	earliest := s.now().Add(time.Duration(et.MinimumNoticeMinutes) * time.Minute)
	length := time.Duration(lengthMin) * time.Minute
	var out []time.Time
	first := from.In(loc)
	day := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
	for ; !day.After(to); day = day.AddDate(0, 0, 1) {
		for _, win := range et.Schedule[day.Weekday()] {
			for m := win.Start; m+lengthMin <= win.End; m += et.SlotIntervalMinutes {
				st := time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, loc)
				if st.Before(from) || st.After(to) || st.Before(earliest) {
					continue
				}
				if s.busy(et.hostKey(), st, st.Add(length), ignoreUID) {
					continue
				}
				out = append(out, st.UTC())
			}
		}
	}
	return out
}

func (s *Sandbox) busy(host int64, start, end time.Time, ignoreUID string) bool {
	for _, b := range s.bookings {
		if b.hostKey == host && b.Active() && b.UID != ignoreUID && b.Start.Before(end) && start.Before(b.End) {
			return true
		}
	}
	return false
}

// isoDate and isoDateTime are what class-validator's strict IsDateString accepts (roughly).
var (
	isoDate     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	isoDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$`)
)

// parseISO parses a strict ISO 8601 string; a bare date means the start of
// that day (or its last second when endOfDay) in loc.
func parseISO(v string, loc *time.Location, endOfDay bool) (time.Time, bool) {
	switch {
	case isoDate.MatchString(v):
		d, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return time.Time{}, false
		}
		if endOfDay {
			d = d.Add(24*time.Hour - time.Second)
		}
		return d, true
	case isoDateTime.MatchString(v):
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, true
		}
		if t, err := time.Parse("2006-01-02T15:04Z07:00", v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

type slotTime struct {
	Start string `json:"start"`
}

type slotRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// formatIn renders t like luxon's toISO() in zone loc.
func formatIn(t time.Time, loc *time.Location) string {
	if loc == time.UTC {
		return t.UTC().Format(isoMillis)
	}
	return t.In(loc).Format("2006-01-02T15:04:05.000-07:00")
}

func (s *Sandbox) slots(r *http.Request) reply {
	q := r.URL.Query()
	var problems []string
	loc := time.UTC
	if tz := q.Get("timeZone"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			problems = append(problems, "timeZone must be a valid IANA time zone")
		} else {
			loc = l
		}
	}
	from, okFrom := parseISO(q.Get("start"), loc, false)
	to, okTo := parseISO(q.Get("end"), loc, true)
	if !okFrom {
		problems = append(problems, "start must be a valid ISO 8601 date string")
	}
	if !okTo {
		problems = append(problems, "end must be a valid ISO 8601 date string")
	}
	format := q.Get("format")
	if format != "" && format != "time" && format != "range" {
		problems = append(problems, "format must be one of the following values: time, range")
	}
	if len(problems) > 0 {
		return reply{status: 400, body: errorBody{Code: "BadRequestException", Message: problems[0], Details: map[string]any{"errors": problems}}}
	}
	idStr := q.Get("eventTypeId")
	if idStr == "" {
		return errReply(400, "BadRequestException", "sandbox supports slots by eventTypeId only")
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return errReply(400, "BadRequestException", "eventTypeId must be a number")
	}
	if to.Before(from) {
		return errReply(400, "BadRequestException", "end must be after start")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	et, ok := s.eventTypes[id]
	if !ok {
		return errReply(404, "NotFoundException", "Event Type not found")
	}
	length := et.LengthMinutes
	if d := q.Get("duration"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return errReply(400, "BadRequestException", "duration must be a positive number")
		}
		length = n
	}
	starts := s.freeStarts(et, from, to, length, q.Get("bookingUidToReschedule"))
	days := map[string][]any{}
	for _, st := range starts {
		day := st.In(loc).Format("2006-01-02")
		if format == "range" {
			days[day] = append(days[day], slotRange{formatIn(st, loc), formatIn(st.Add(time.Duration(length)*time.Minute), loc)})
		} else {
			days[day] = append(days[day], slotTime{formatIn(st, loc)})
		}
	}
	return reply{status: 200, body: map[string]any{"status": "success", "data": days}}
}
