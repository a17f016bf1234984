package incall

import (
	"fmt"
	"strings"
)

// msgID names one sentence the agent may say. All texts live here, in both
// languages, so wording is reviewed in one place.
type msgID int

const (
	msgAvailable msgID = iota
	msgTaken
	msgTakenAt
	msgOfferDay
	msgOfferDays
	msgNoAlternatives
	msgAskOther
	msgDayPast
	msgDayOtherOptions
	msgTooSoon
	msgTooSoonAt
	msgPast
	msgPastAt
	msgClosedDay
	msgClosed
	msgClosedAt
	msgDayOptions
	msgDayNoOptions
	msgUnclearDate
	msgUnclearTime
	msgNoSuchDay
	msgNoSuchDayYear
	msgConfirmDate
	msgUnknownService
	msgWhichService
	msgWhichOf
	msgBooked
	msgBookedBound
	msgBookedOther
	msgBookedOtherUnnamed
	msgPending
	msgCalendarDown
	msgNameNeeded
	msgContactNeeded
	msgPhoneUnclear
	msgAnonymous
	msgCallbackNoted
	msgNoAppointments
	msgNotFoundAt
	msgMultiple
	msgCancelled
	msgCancelledFee
	msgDeniedNoticeCancel
	msgDeniedNoticeMove
	msgStaffNotified
	msgAppointment
	msgDeniedQuota
	msgDeniedMaxReschedules
	msgDeniedPastCancel
	msgDeniedPastMove
	msgRescheduled
	msgRescheduledFee
	msgUpcoming
	msgServices
	msgServicesNone
	msgDuration
	msgDurationPrice
	msgNotAllowed
	msgInProgress
	msgTemporarilyUnavailable
	msgCallUnverified
	msgMoreAppointments
	msgCount // not a message: the number of messages
)

// Conventions of the German texts (a receptionist's, not a form's): the
// day is named once per answer and always the same way ("Dienstag, den 8.
// Dezember", spoken.Day); times of one day follow it ("zwölf Uhr, halb eins
// oder halb zwei"); every refusal says what happens next. Every answer
// stays within maxWords except the lists of several appointments or
// services (see messages_test.go).
var texts = map[string]map[msgID]string{
	"de": {
		msgAvailable:              "%s ist frei. Soll ich den Termin für Sie buchen?",
		msgTaken:                  "%s ist leider schon vergeben.",
		msgTakenAt:                "Um %s ist leider schon vergeben.",
		msgOfferDay:               "Am %s kann ich Ihnen %s anbieten.",
		msgOfferDays:              "Ich kann Ihnen %s anbieten.",
		msgNoAlternatives:         "In den nächsten zwei Wochen habe ich leider keinen freien Termin dafür gefunden. Soll ich Sie zurückrufen lassen?",
		msgAskOther:               "Welche andere Zeit würde Ihnen passen?",
		msgDayPast:                "Der %s liegt in der Vergangenheit. An welchem Tag möchten Sie kommen?",
		msgDayOtherOptions:        "Am %s habe ich leider nichts frei. Am %s habe ich %s frei. Welche Uhrzeit passt Ihnen?",
		msgTooSoon:                "%s ist zu kurzfristig, wir brauchen mindestens %s Vorlauf.",
		msgTooSoonAt:              "Um %s ist es zu kurzfristig, wir brauchen mindestens %s Vorlauf.",
		msgPast:                   "%s liegt in der Vergangenheit.",
		msgPastAt:                 "%s ist schon vorbei.",
		msgClosedDay:              "Am %s haben wir geschlossen.",
		msgClosed:                 "%s haben wir geschlossen, geöffnet ist von %s.",
		msgClosedAt:               "Um %s haben wir geschlossen, geöffnet ist von %s.",
		msgDayOptions:             "Am %s habe ich %s frei. Welche Uhrzeit passt Ihnen?",
		msgDayNoOptions:           "Am %s habe ich leider nichts mehr frei, und in den nächsten zwei Wochen auch nicht. Soll ich Sie zurückrufen lassen?",
		msgUnclearDate:            "Ich habe das Datum nicht sicher verstanden. An welchem Tag möchten Sie kommen?",
		msgUnclearTime:            "Ich habe die Uhrzeit nicht sicher verstanden. Um wie viel Uhr möchten Sie kommen?",
		msgNoSuchDay:              "Den %s gibt es nicht. Meinen Sie %s oder %s?",
		msgNoSuchDayYear:          "Den %s gibt es %d nicht. Meinen Sie %s oder %s?",
		msgConfirmDate:            "Also %s?",
		msgUnknownService:         "Diese Leistung kenne ich leider nicht. Wir bieten %s an. Was davon möchten Sie?",
		msgWhichService:           "Welche Leistung möchten Sie buchen? Wir bieten %s an.",
		msgWhichOf:                "%s?",
		msgBooked:                 "Ihr Termin für %s ist gebucht: %s. Vielen Dank!",
		msgBookedBound:            "Ihr Termin für %s ist gebucht: %s. %s geht nur bis %s vorher, bei diesem Termin also nicht mehr.",
		msgBookedOther:            "%s ist schon auf den Namen %s gebucht. Für %s ist noch nichts gebucht. Soll ich eine andere Zeit suchen?",
		msgBookedOtherUnnamed:     "%s ist schon auf einen anderen Namen gebucht. Für %s ist noch nichts gebucht. Soll ich eine andere Zeit suchen?",
		msgPending:                "Ich habe Ihren Wunsch für %s notiert. Die Bestätigung vom Kalender steht noch aus, Sie bekommen sie in Kürze.",
		msgCalendarDown:           "Der Kalender ist gerade nicht erreichbar. Ich habe notiert, dass wir Sie zurückrufen, um den Termin zu vereinbaren.",
		msgNameNeeded:             "Auf welchen Namen darf ich den Termin buchen?",
		msgContactNeeded:          "Ihre Nummer wird leider nicht übertragen. Unter welcher Telefonnummer oder E-Mail-Adresse erreichen wir Sie?",
		msgPhoneUnclear:           "Die Nummer habe ich nicht richtig verstanden. Können Sie sie bitte Ziffer für Ziffer wiederholen?",
		msgAnonymous:              "Ihre Nummer wird leider nicht übertragen, deshalb kann ich Ihre Termine nicht ändern. Unter welcher Nummer können wir Sie zurückrufen?",
		msgCallbackNoted:          "Danke, ich habe notiert, dass wir Sie unter dieser Nummer zurückrufen.",
		msgNoAppointments:         "Ich finde unter Ihrer Nummer keinen anstehenden Termin.",
		msgNotFoundAt:             "Ich finde für %s keinen Termin unter Ihrer Nummer. Sie haben: %s.",
		msgMultiple:               "Sie haben mehrere Termine: %s. Welchen meinen Sie?",
		msgCancelled:              "Ihr Termin für %s ist storniert.",
		msgCancelledFee:           "Ihr Termin für %s ist storniert. Dafür fällt eine Gebühr von %s an.",
		msgDeniedNoticeCancel:     "Ihr Termin %s kann nur bis %s vorher abgesagt werden.",
		msgDeniedNoticeMove:       "Ihr Termin %s kann nur bis %s vorher verschoben werden.",
		msgStaffNotified:          "Ich habe dem Team Bescheid gegeben, es meldet sich bei Ihnen.",
		msgAppointment:            "%s am %s",
		msgDeniedQuota:            "Sie haben in den letzten 30 Tagen bereits %d Termine abgesagt, weitere Absagen gehen telefonisch nicht.",
		msgDeniedMaxReschedules:   "Ihr Termin %s wurde schon %d-mal verschoben, öfter geht es leider nicht.",
		msgDeniedPastCancel:       "Der Termin %s hat bereits begonnen und kann nicht mehr abgesagt werden.",
		msgDeniedPastMove:         "Der Termin %s hat bereits begonnen und kann nicht mehr verschoben werden.",
		msgRescheduled:            "Ihr Termin ist verschoben auf %s.",
		msgRescheduledFee:         "Ihr Termin ist verschoben auf %s. Dafür fällt eine Gebühr von %s an.",
		msgUpcoming:               "Ihre nächsten Termine: %s.",
		msgServices:               "Wir bieten %s an.",
		msgServicesNone:           "Für diese Auswahl finde ich keine buchbare Leistung. Wir bieten %s an.",
		msgDuration:               "%s dauert %s.",
		msgDurationPrice:          "%s dauert %s und kostet %s.",
		msgNotAllowed:             "Über diese Nummer können leider keine Termine gebucht werden.",
		msgInProgress:             "Einen Moment, Ihre Anfrage wird gerade noch bearbeitet. Bitte fragen Sie gleich noch einmal.",
		msgTemporarilyUnavailable: "Ich komme gerade nicht an unsere Termindaten. Ich habe notiert, dass wir Sie zurückrufen.",
		msgCallUnverified:         "Ich kann diesen Anruf gerade leider nicht zuordnen und deshalb nichts nachsehen oder ändern. Bitte rufen Sie noch einmal an.",
		msgMoreAppointments:       "Sie haben %d anstehende Termine. Die nächsten drei: %s.",
	},
	"en": {
		msgAvailable:              "%s is free. Shall I book it for you?",
		msgTaken:                  "I'm sorry, %s is already taken.",
		msgTakenAt:                "I'm sorry, %s is already taken.",
		msgOfferDay:               "On %s I can offer %s.",
		msgOfferDays:              "I can offer %s.",
		msgNoAlternatives:         "I found nothing free for it in the next two weeks. Shall we call you back?",
		msgAskOther:               "Which other time would suit you?",
		msgDayPast:                "%s is in the past. Which day would you like to come?",
		msgDayOtherOptions:        "I'm sorry, nothing is free on %s. On %s I have %s free. Which time suits you?",
		msgTooSoon:                "%s is too short notice; we need at least %s.",
		msgTooSoonAt:              "%s is too short notice; we need at least %s.",
		msgPast:                   "%s is in the past.",
		msgPastAt:                 "%s has already passed.",
		msgClosedDay:              "We are closed on %s.",
		msgClosed:                 "We are closed on %s; that day we are open %s.",
		msgClosedAt:               "We are closed at %s; that day we are open %s.",
		msgDayOptions:             "On %s I have %s free. Which time suits you?",
		msgDayNoOptions:           "I'm sorry, nothing is free on %s or in the next two weeks. Shall we call you back?",
		msgUnclearDate:            "I didn't catch the date. Which day would you like to come?",
		msgUnclearTime:            "I didn't catch the time. At what time would you like to come?",
		msgNoSuchDay:              "There is no %s. Do you mean %s or %s?",
		msgNoSuchDayYear:          "There is no %s in %d. Do you mean %s or %s?",
		msgConfirmDate:            "So that is %s?",
		msgUnknownService:         "I don't know that service. We offer %s. Which would you like?",
		msgWhichService:           "Which service would you like to book? We offer %s.",
		msgWhichOf:                "%s?",
		msgBooked:                 "Your appointment for %s is booked: %s. Thank you!",
		msgBookedBound:            "Your appointment for %s is booked: %s. %s is only possible up to %s before, so no longer for this one.",
		msgBookedOther:            "%s is already booked under the name %s. Nothing is booked for %s yet. Shall I look for another time?",
		msgBookedOtherUnnamed:     "%s is already booked under another name. Nothing is booked for %s yet. Shall I look for another time?",
		msgPending:                "I have noted your request for %s. The calendar has not confirmed it yet; you will receive the confirmation shortly.",
		msgCalendarDown:           "The calendar cannot be reached right now. I have noted that we will call you back to arrange the appointment.",
		msgNameNeeded:             "Under which name shall I book the appointment?",
		msgContactNeeded:          "Your number is withheld. At which phone number or email address can we reach you?",
		msgPhoneUnclear:           "I didn't get that number right. Could you repeat it digit by digit, please?",
		msgAnonymous:              "Your number is withheld, so I cannot change your appointments. Which number can we call you back on?",
		msgCallbackNoted:          "Thank you, I have noted that we will call you back on that number.",
		msgNoAppointments:         "I cannot find an upcoming appointment under your number.",
		msgNotFoundAt:             "I cannot find an appointment for %s under your number. You have: %s.",
		msgMultiple:               "You have several appointments: %s. Which one do you mean?",
		msgCancelled:              "Your appointment for %s is cancelled.",
		msgCancelledFee:           "Your appointment for %s is cancelled. A fee of %s applies.",
		msgDeniedNoticeCancel:     "Your appointment %s can only be cancelled up to %s before.",
		msgDeniedNoticeMove:       "Your appointment %s can only be moved up to %s before.",
		msgStaffNotified:          "I have let the team know; they will get back to you.",
		msgAppointment:            "%s on %s",
		msgDeniedQuota:            "You have already cancelled %d appointments in the last 30 days; further cancellations are not possible by phone.",
		msgDeniedMaxReschedules:   "Your appointment %s has already been moved %d times; it cannot be moved again.",
		msgDeniedPastCancel:       "The appointment %s has already started and can no longer be cancelled.",
		msgDeniedPastMove:         "The appointment %s has already started and can no longer be moved.",
		msgRescheduled:            "Your appointment is moved to %s.",
		msgRescheduledFee:         "Your appointment is moved to %s. A fee of %s applies.",
		msgUpcoming:               "Your next appointments: %s.",
		msgServices:               "We offer %s.",
		msgServicesNone:           "I find no bookable service for that. We offer %s.",
		msgDuration:               "%s takes %s.",
		msgDurationPrice:          "%s takes %s and costs %s.",
		msgNotAllowed:             "Appointments cannot be booked through this number.",
		msgInProgress:             "One moment, your request is still being processed. Please ask again in a moment.",
		msgTemporarilyUnavailable: "I cannot reach our appointment data right now. I have noted that we will call you back.",
		msgCallUnverified:         "I'm sorry, I cannot match this call right now, so I cannot look anything up or change it. Please call again.",
		msgMoreAppointments:       "You have %d upcoming appointments. The next three: %s.",
	},
}

func say(locale string, id msgID, args ...any) string {
	t, ok := texts[locale]
	if !ok {
		t = texts["de"]
	}
	return fmt.Sprintf(t[id], args...)
}

// joinOr joins options as "a, b oder c" ("a, b or c").
func joinOr(locale string, items []string) string { return join(locale, items, "oder", "or") }

// joinAnd joins as "a, b und c".
func joinAnd(locale string, items []string) string { return join(locale, items, "und", "and") }

func join(locale string, items []string, de, en string) string {
	word := de
	if locale == "en" {
		word = en
	}
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + word + " " + items[len(items)-1]
}

// euros renders cents for speech: "10 Euro", "25,50 Euro".
func euros(locale string, cents int64) string {
	if locale == "en" {
		if cents%100 == 0 {
			return fmt.Sprintf("%d euros", cents/100)
		}
		return fmt.Sprintf("%d.%02d euros", cents/100, cents%100)
	}
	if cents%100 == 0 {
		return fmt.Sprintf("%d Euro", cents/100)
	}
	return fmt.Sprintf("%d,%02d Euro", cents/100, cents%100)
}

// hoursText renders a notice period: "24 Stunden", "30 Minuten".
func hoursText(locale string, minutes int) string {
	if locale == "en" {
		if minutes%60 == 0 {
			if minutes == 60 {
				return "1 hour"
			}
			return fmt.Sprintf("%d hours", minutes/60)
		}
		return fmt.Sprintf("%d minutes", minutes)
	}
	if minutes%60 == 0 {
		if minutes == 60 {
			return "1 Stunde"
		}
		return fmt.Sprintf("%d Stunden", minutes/60)
	}
	return fmt.Sprintf("%d Minuten", minutes)
}
