package calcomtest

import "github.com/telefonagent/gateway/shared/booking"

// SeedTenant creates one event type per Cal.com event type of the tenant
// (services and composite segments), with the first branch's opening hours
// as schedule and 30-minute slot intervals, so the sandbox looks like the
// business's real calendar.
func (s *Sandbox) SeedTenant(cfg *booking.TenantConfig) error {
	tz, hours := "Europe/Berlin", booking.OpeningHours{}
	if len(cfg.Branches) > 0 {
		tz, hours = cfg.Branches[0].TimeZone, cfg.Branches[0].OpeningHours
	}
	seen := map[int64]bool{}
	add := func(id int64, minutes int, title string) error {
		if id == 0 || seen[id] {
			return nil
		}
		seen[id] = true
		return s.AddEventType(EventType{ID: id, Title: title, LengthMinutes: minutes, TimeZone: tz, Schedule: hours, SlotIntervalMinutes: 30})
	}
	for _, sv := range cfg.Services {
		if err := add(sv.EventTypeID, sv.DurationMinutes, sv.Name); err != nil {
			return err
		}
		for _, seg := range sv.Segments {
			if err := add(seg.EventTypeID, seg.DurationMinutes, seg.Name); err != nil {
				return err
			}
		}
	}
	return nil
}
