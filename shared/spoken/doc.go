// Package spoken turns what a caller said about a day and a time into a
// civil date and clock time, and turns instants back into words an agent can
// say. It is deterministic: the same words, reference instant and zone always
// give the same answer, and anything it does not understand is an error
// ("unclear_date" / "unclear_time"), never a guess.
//
// Decisions where the spec was silent or the original system was wrong:
//
//   - A weekday alone, "am/nächsten/kommenden <Wochentag>" and English
//     "<weekday>/on/next/coming <weekday>" mean the next occurrence strictly
//     after today (said on a Tuesday, "Dienstag" is a week later).
//     "diesen/dieser <Wochentag>" and "this <weekday>" include today.
//   - "<Wochentag> nächste Woche" / "nächste Woche <Wochentag>" is always that
//     weekday of the next Monday-based week, also when said on a Monday (the
//     original's two contradicting rules are resolved this way).
//     "diese Woche <Wochentag>" is that weekday of the current week even when
//     it is already past: past detection is the caller's job.
//   - "nächste Woche" or "diese Woche" without a weekday is unclear_date: the
//     agent must ask for the day instead of us picking Monday.
//   - A day and month without a year that lie before today mean next year;
//     today stays today. A day that year lacks ("29. Februar" when the next
//     February has no 29th, "31. April") is unclear_date and NoSuchDate
//     names it, so the agent asks; it is never moved to a leap year years
//     ahead, where a read-back without the year would hide it.
//   - "nächsten/kommenden <Wochentag>" and "next <weekday>" that fall in the
//     current week ("nächsten Samstag" said on a Friday) resolve to that day
//     but set Request.Unsure: callers split between it and a week later, so
//     the agent confirms the date.
//   - "Silvester", "Heiligabend", "Neujahr", "christmas eve", "new year's
//     eve" are the next such day; "Weihnachten" (24th, 25th or 26th?) stays
//     unclear. "nächsten Monat am Fünften" / "am Fünften nächsten Monats" /
//     "next month on the fifth" is that day of the following month. There is no grace period and no "15.1 means 15.10"
//     speech-artefact guessing: "15.1" is the 15th of January.
//   - An explicit year is kept even if that date is past.
//   - "in acht Tagen" is the German idiom for one week (+7 days); every other
//     "in N Tagen" is literal.
//   - A weekday said together with an explicit date ("Dienstag, den 2. März")
//     must match it, otherwise unclear_date (the agent asks back).
//   - A clock hour 1–7 said without a qualifier is in the afternoon
//     (um 3 = 15:00), 8–12 is the morning/noon. This applies to words and to
//     digits written without a leading zero ("7:30" = 19:30); "07:30", ISO
//     times and hours 0 and 13–23 are taken literally.
//   - Time-of-day words are windows (see Window), never exact times. With an
//     exact time they act as qualifiers ("3 Uhr nachmittags" = 15:00); a
//     qualifier that contradicts the time ("20 Uhr morgens") is unclear_time.
//   - A time without any date is unclear_date (no "today or tomorrow" guess).
//   - ISO "YYYY-MM-DDT00:00:00" without offset is a date only (LLMs pad
//     dates that way); with an offset it is an instant like any other.
//   - Words outside the vocabulary make the field unclear, so "nicht morgen"
//     never resolves to tomorrow.
//   - The locale's vocabulary is tried first, then the other language's.
package spoken
