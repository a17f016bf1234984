package infra

import "github.com/telefonagent/gateway/shared/platform"

// The CloudWatch EMF names the functions emit come from shared/platform,
// the one list the code and the alarms share.
const (
	MetricNamespace = platform.Namespace

	DimFunction  = platform.DimFunction
	DimOutcome   = platform.DimOutcome
	DimEventType = platform.DimEventType

	MetricRequests          = platform.MetricRequests
	MetricLatency           = platform.MetricLatency
	MetricSignatureFailures = platform.MetricWebhookSignatureFailures
	MetricBookingOutcome    = platform.MetricBookingOutcome
	MetricWebhookEvents     = platform.MetricWebhookEvents
)

// BookingOutcomes are the Outcome values of BookingOutcome (shared/incall
// emits exactly these); the failure-rate alarm adds them up because
// CloudWatch alarms cannot search. A declined booking (slot taken, too
// soon, …) is a business answer, not a failure; a failed one (calendar
// unavailable) or a pending one (unknown outcome) is.
var BookingOutcomes = []string{"booked", "declined", "failed", "pending"}

// BookingFailedOutcomes count as failures.
var BookingFailedOutcomes = map[string]bool{"failed": true, "pending": true}

// BookingFunctions emit BookingOutcome.
var BookingFunctions = []string{"book-appointment"}

// MetricFunctionValue is the Function dimension value a function emits:
// shared/app sets it to the catalogue name.
func MetricFunctionValue(_ Config, name string) string { return name }

// AllMetricNames lists every metric name infra uses (tests check each is used).
func AllMetricNames() []string {
	return []string{MetricRequests, MetricLatency, MetricSignatureFailures, MetricBookingOutcome, MetricWebhookEvents}
}
