package retell

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/telefonagent/gateway/shared/catalog"
)

// CustomTool is a Retell custom tool (retell-sdk 5.66.1 llm.ts CustomTool):
// what an operator pastes into the agent or uploads with the API.
type CustomTool struct {
	Type                        string            `json:"type"` // always "custom"
	Name                        string            `json:"name"` // [a-zA-Z0-9_-]{1,64}
	Description                 string            `json:"description"`
	URL                         string            `json:"url"`
	Method                      string            `json:"method"`
	Headers                     map[string]string `json:"headers,omitempty"`
	QueryParams                 map[string]string `json:"query_params,omitempty"`
	Parameters                  ToolParameters    `json:"parameters"`
	SpeakDuringExecution        bool              `json:"speak_during_execution"`
	ExecutionMessageDescription string            `json:"execution_message_description,omitempty"`
	ExecutionMessageType        string            `json:"execution_message_type,omitempty"` // prompt | static_text
	SpeakAfterExecution         bool              `json:"speak_after_execution"`
	TimeoutMS                   int               `json:"timeout_ms"`
	MaxRetry                    int               `json:"max_retry"`
}

// ToolParameters is the JSON Schema of a tool's arguments; Retell requires
// a top-level "type":"object".
type ToolParameters struct {
	Type       string                  `json:"type"`
	Properties map[string]ToolProperty `json:"properties"`
	Required   []string                `json:"required,omitempty"`
}

// ToolProperty is one argument. All our arguments are strings: dates and
// times are passed as the caller said them and resolved by shared/spoken.
type ToolProperty struct {
	Type        string   `json:"type"`
	Description string   `json:"description"`
	Enum        []string `json:"enum,omitempty"`
}

// Timeouts and retries. The in-call Lambdas stop hard after 5 s and aim to
// answer within 2.5 s (catalog). Reads get 5 s: twice their budget, and an
// answer later than that is useless to a waiting caller; they are
// idempotent, so one retry is allowed. Writes get 8 s so Retell never gives
// up before our function has finished (5 s cap + cold start + API
// Gateway): the caller must hear the real outcome, including "pending
// confirmation" after a Cal.com timeout. Writes are idempotent too, but a
// retry would only repeat the stored answer while the caller waits twice
// as long, so they are not retried by Retell.
const (
	ReadTimeoutMS  = 5000
	WriteTimeoutMS = 8000
	ReadMaxRetry   = 1
	WriteMaxRetry  = 0
)

type toolSpec struct {
	function string // catalog name
	write    bool
	required []string
	params   []string
}

var toolSpecs = []toolSpec{
	{function: "check-availability", params: []string{"service", "date", "time", "time_preference"}, required: []string{"date"}},
	{function: "book-appointment", write: true, params: []string{"service", "date", "time", "customer_name", "customer_email", "customer_phone", "notes"}, required: []string{"date", "time", "customer_name"}},
	{function: "cancel-appointment", write: true, params: []string{"date", "time", "reason", "customer_phone"}},
	{function: "reschedule-appointment", write: true, params: []string{"date", "time", "new_date", "new_time", "customer_phone"}, required: []string{"new_date", "new_time"}},
	{function: "find-appointments", params: []string{"customer_phone"}},
	{function: "list-services", params: []string{"service", "category"}},
}

type texts struct {
	tool   map[string]string // tool description by tool name
	param  map[string]string // parameter description by name
	during string            // execution_message_description
}

var localeTexts = map[string]texts{
	"de": {
		tool: map[string]string{
			"check_availability":     "Prüft, ob ein Termin für eine Dienstleistung zu einem Datum und einer Uhrzeit frei ist, und nennt sonst bis zu drei Alternativen. Immer vor dem Buchen aufrufen. Ohne Uhrzeit nennt sie freie Zeiten an diesem Tag.",
			"book_appointment":       "Bucht einen Termin verbindlich. Nur aufrufen, nachdem der Anrufer Dienstleistung, Tag und Uhrzeit ausdrücklich bestätigt hat und der Name bekannt ist. Die Antwort nennt den gebuchten Termin in Worten; lies sie zur Bestätigung vor.",
			"cancel_appointment":     "Storniert einen Termin des Anrufers. Datum und Uhrzeit angeben, wenn der Anrufer mehrere Termine hat. Vorher die Stornierung bestätigen lassen.",
			"reschedule_appointment": "Verschiebt einen Termin des Anrufers auf einen neuen Tag und eine neue Uhrzeit. Den bisherigen Termin per Datum und Uhrzeit angeben, wenn der Anrufer mehrere hat.",
			"find_appointments":      "Nennt die kommenden Termine des Anrufers (erkannt an seiner Telefonnummer).",
			"list_services":          "Nennt die buchbaren Dienstleistungen dieser Filiale, optional nur einer Kategorie. Mit 'service' beantwortet sie, wie lange eine Dienstleistung dauert und was sie kostet (z. B. 'Wie lange dauert Färben?').",
		},
		param: map[string]string{
			"service":         "Die gewünschte Dienstleistung, wie der Anrufer sie nennt (z. B. 'Herrenhaarschnitt'). Leer lassen, wenn keine genannt wurde.",
			"date":            "Der Tag, genau wie der Anrufer ihn sagt ('morgen', 'nächsten Dienstag', '15. März') oder als ISO-Datum (2027-03-15). Nicht selbst umrechnen.",
			"time":            "Die Uhrzeit, wie der Anrufer sie sagt ('halb drei', '14 Uhr') oder als HH:MM. Leer lassen, wenn keine genannt wurde.",
			"time_preference": "Eine ungefähre Tageszeit statt einer Uhrzeit, z. B. 'vormittags', 'mittags', 'nachmittags', 'abends'.",
			"customer_name":   "Vor- und Nachname des Anrufers.",
			"customer_email":  "E-Mail-Adresse, nur wenn der Anrufer sie nennt. Niemals erfinden.",
			"customer_phone":  "Rückrufnummer, nur wenn der Anrufer sie nennt, weil seine Nummer unterdrückt ist (z. B. '0170 1234567' oder '+49 170 1234567'). Nie erfinden.",
			"notes":           "Kurze Anmerkung des Anrufers zum Termin, sonst leer.",
			"reason":          "Grund der Stornierung, falls genannt.",
			"new_date":        "Der neue Tag, wie der Anrufer ihn sagt oder als ISO-Datum.",
			"new_time":        "Die neue Uhrzeit, wie der Anrufer sie sagt oder als HH:MM.",
			"category":        "Kategorie oder Teil des Namens, wie der Anrufer sie nennt, z. B. 'Haarschnitt', 'Farbe' oder 'Herren'. Leer für alle.",
		},
		during: "Sag kurz und natürlich, dass du nachsiehst, z. B. 'Einen Moment bitte, ich schaue kurz nach.' Nenne dabei noch kein Ergebnis.",
	},
	"en": {
		tool: map[string]string{
			"check_availability":     "Checks whether a service is free at a date and time and otherwise offers up to three alternatives. Always call before booking. Without a time it lists free times that day.",
			"book_appointment":       "Books an appointment. Only call after the caller has explicitly confirmed service, day and time and the name is known. The answer states the booked time in words; read it back.",
			"cancel_appointment":     "Cancels one of the caller's appointments. Give date and time if the caller has several. Confirm the cancellation first.",
			"reschedule_appointment": "Moves one of the caller's appointments to a new day and time. Identify the current one by date and time if the caller has several.",
			"find_appointments":      "Lists the caller's upcoming appointments (recognised by the phone number).",
			"list_services":          "Lists the services that can be booked at this branch, optionally of one category. With 'service' it answers how long a service takes and what it costs (e.g. 'How long does colouring take?').",
		},
		param: map[string]string{
			"service":         "The service as the caller names it. Leave empty if none was named.",
			"date":            "The day exactly as the caller says it ('tomorrow', 'next Tuesday', 'March 15') or as an ISO date (2027-03-15). Do not convert it yourself.",
			"time":            "The time as the caller says it ('half past two', '2 pm') or as HH:MM. Leave empty if none was named.",
			"time_preference": "A rough time of day instead of a time, e.g. 'morning', 'noon', 'afternoon', 'evening'.",
			"customer_name":   "The caller's first and last name.",
			"customer_email":  "E-mail address, only if the caller gives one. Never invent one.",
			"customer_phone":  "Call-back number, only if the caller gives one because their number is withheld (e.g. '0170 1234567' or '+49 170 1234567'). Never invent one.",
			"notes":           "A short note from the caller about the appointment, else empty.",
			"reason":          "Reason for cancelling, if given.",
			"new_date":        "The new day as the caller says it or as an ISO date.",
			"new_time":        "The new time as the caller says it or as HH:MM.",
			"category":        "Category or part of the service name as the caller says it, e.g. 'Haarschnitt', 'Farbe' or 'Herren'. Empty for all.",
		},
		during: "Briefly and naturally say that you are checking, e.g. 'One moment please, let me check.' Do not state a result yet.",
	},
}

// ToolName is the Retell tool name of a catalogued function
// ("check-availability" → "check_availability").
func ToolName(function string) string { return strings.ReplaceAll(function, "-", "_") }

// Tools returns the custom-tool definitions of the in-call functions, with
// URLs under apiBaseURL (e.g. https://api.example.com/prod) and texts in
// locale ("de" default, "en"). They use Retell's default envelope
// {name, call, args}, so no headers are needed (see CallRefFrom for
// args-only tools).
func Tools(apiBaseURL, locale string) []CustomTool {
	tx, ok := localeTexts[locale]
	if !ok {
		tx = localeTexts["de"]
	}
	base := strings.TrimRight(apiBaseURL, "/")
	out := make([]CustomTool, 0, len(toolSpecs))
	for _, s := range toolSpecs {
		fn, ok := catalog.Lookup(s.function)
		if !ok || len(fn.Routes) == 0 {
			panic("retell: tool for uncatalogued function " + s.function) // a programming error, caught by the tests
		}
		name := ToolName(s.function)
		t := CustomTool{
			Type: "custom", Name: name, Description: tx.tool[name],
			URL: base + fn.Routes[0].Path, Method: fn.Routes[0].Method,
			Parameters:           ToolParameters{Type: "object", Properties: map[string]ToolProperty{}, Required: s.required},
			SpeakDuringExecution: true, ExecutionMessageDescription: tx.during, ExecutionMessageType: "prompt",
			SpeakAfterExecution: true,
			TimeoutMS:           ReadTimeoutMS, MaxRetry: ReadMaxRetry,
		}
		if s.write {
			t.TimeoutMS, t.MaxRetry = WriteTimeoutMS, WriteMaxRetry
		}
		for _, p := range s.params {
			t.Parameters.Properties[p] = ToolProperty{Type: "string", Description: tx.param[p]}
		}
		out = append(out, t)
	}
	return out
}

// ValidateTool checks a tool against Retell's constraints (SDK CustomTool):
// name pattern and length, type, absolute http(s) URL, method, object
// schema whose required properties exist, timeout 1 s–10 min, retries 0–5.
func ValidateTool(t CustomTool) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !validToolName(t.Name) {
		add("name must be 1-64 characters of [a-zA-Z0-9_-]")
	}
	if t.Type != "custom" {
		add("type must be custom")
	}
	if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("url must be an absolute http(s) URL")
	}
	switch t.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		add("method must be GET, POST, PUT, PATCH or DELETE")
	}
	if strings.TrimSpace(t.Description) == "" {
		add("description missing")
	}
	if t.Parameters.Type != "object" {
		add("parameters.type must be object")
	}
	for _, r := range t.Parameters.Required {
		if _, ok := t.Parameters.Properties[r]; !ok {
			add("required parameter %s is not a property", r)
		}
	}
	for name, p := range t.Parameters.Properties {
		if p.Type == "" || strings.TrimSpace(p.Description) == "" {
			add("parameter %s needs a type and a description", name)
		}
	}
	if t.SpeakDuringExecution && strings.TrimSpace(t.ExecutionMessageDescription) == "" {
		add("speak_during_execution needs an execution_message_description")
	}
	if t.ExecutionMessageType != "" && t.ExecutionMessageType != "prompt" && t.ExecutionMessageType != "static_text" {
		add("execution_message_type must be prompt or static_text")
	}
	if t.TimeoutMS < 1000 || t.TimeoutMS > 600000 {
		add("timeout_ms must be between 1000 and 600000")
	}
	if t.MaxRetry < 0 || t.MaxRetry > 5 {
		add("max_retry must be between 0 and 5")
	}
	if len(problems) > 0 {
		return fmt.Errorf("retell tool %q: %s", t.Name, strings.Join(problems, "; "))
	}
	return nil
}
