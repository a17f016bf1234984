package retell

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/catalog"
)

// The issue-4 arguments of each tool.
var wantArgs = map[string][]string{
	"check_availability":     {"service", "date", "time", "time_preference"},
	"book_appointment":       {"service", "date", "time", "customer_name", "customer_email", "customer_phone", "notes"},
	"cancel_appointment":     {"date", "time", "reason", "customer_phone"},
	"reschedule_appointment": {"date", "time", "new_date", "new_time", "customer_phone"},
	"find_appointments":      {"customer_phone"},
	"list_services":          {"service", "category"},
}

func TestToolsMatchRetellConstraints(t *testing.T) {
	namePattern := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	for _, locale := range []string{"de", "en", ""} {
		tools := Tools("https://api.example.com/prod/", locale)
		if len(tools) != len(wantArgs) {
			t.Fatalf("%d tools, want %d", len(tools), len(wantArgs))
		}
		for _, tool := range tools {
			if err := ValidateTool(tool); err != nil {
				t.Errorf("%s: %v", locale, err)
			}
			if !namePattern.MatchString(tool.Name) {
				t.Errorf("name %q", tool.Name)
			}
			fn, ok := catalog.Lookup(strings.ReplaceAll(tool.Name, "_", "-"))
			if !ok || !fn.InCall {
				t.Errorf("%s is not an in-call function of the catalogue", tool.Name)
				continue
			}
			if tool.URL != "https://api.example.com/prod"+fn.Routes[0].Path || tool.Method != "POST" {
				t.Errorf("%s: url %s method %s", tool.Name, tool.URL, tool.Method)
			}
			var got []string
			for p, prop := range tool.Parameters.Properties {
				got = append(got, p)
				if prop.Type != "string" {
					t.Errorf("%s.%s type %s", tool.Name, p, prop.Type)
				}
			}
			want := slices.Clone(wantArgs[tool.Name])
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s args %v, want %v", tool.Name, got, want)
			}
			if !tool.SpeakDuringExecution || !tool.SpeakAfterExecution || tool.ExecutionMessageDescription == "" {
				t.Errorf("%s: speak settings", tool.Name)
			}
			write := strings.HasPrefix(tool.Name, "book") || strings.HasPrefix(tool.Name, "cancel") || strings.HasPrefix(tool.Name, "reschedule")
			if write && (tool.TimeoutMS != WriteTimeoutMS || tool.MaxRetry != 0) {
				t.Errorf("%s: write tool timeout %d retry %d", tool.Name, tool.TimeoutMS, tool.MaxRetry)
			}
			if !write && (tool.TimeoutMS != ReadTimeoutMS || tool.MaxRetry > 1) {
				t.Errorf("%s: read tool timeout %d retry %d", tool.Name, tool.TimeoutMS, tool.MaxRetry)
			}
			// Retell must give up no earlier than the Lambda's hard stop.
			if tool.TimeoutMS < int(fn.Timeout.Milliseconds()) {
				t.Errorf("%s: timeout_ms %d below the function's timeout %v", tool.Name, tool.TimeoutMS, fn.Timeout)
			}
		}
	}
	de := Tools("https://x.example", "de")[0]
	if !strings.Contains(de.Description, "Termin") || !strings.Contains(de.Parameters.Properties["date"].Description, "morgen") {
		t.Errorf("German texts expected: %q", de.Description)
	}
	en := Tools("https://x.example", "en")[0]
	if !strings.Contains(en.Description, "appointment") && !strings.Contains(en.Description, "free") {
		t.Errorf("English texts expected: %q", en.Description)
	}
}

func TestToolsJSONShape(t *testing.T) {
	b, err := json.Marshal(Tools("https://api.example.com", "de"))
	if err != nil {
		t.Fatal(err)
	}
	var generic []map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for _, tool := range generic {
		for _, k := range []string{"type", "name", "description", "url", "method", "parameters", "speak_during_execution",
			"speak_after_execution", "execution_message_description", "timeout_ms", "max_retry"} {
			if _, ok := tool[k]; !ok {
				t.Errorf("%v lacks %s", tool["name"], k)
			}
		}
		params := tool["parameters"].(map[string]any)
		if params["type"] != "object" {
			t.Errorf("%v parameters.type = %v", tool["name"], params["type"])
		}
		if _, ok := params["properties"].(map[string]any); !ok {
			t.Errorf("%v parameters.properties missing (Retell requires it, even empty)", tool["name"])
		}
	}
}

func TestValidateToolCatchesViolations(t *testing.T) {
	good := Tools("https://api.example.com", "de")[1]
	mutations := map[string]func(*CustomTool){
		"long name":         func(c *CustomTool) { c.Name = strings.Repeat("a", 65) },
		"space in name":     func(c *CustomTool) { c.Name = "book appointment" },
		"type":              func(c *CustomTool) { c.Type = "code" },
		"relative url":      func(c *CustomTool) { c.URL = "/functions/book-appointment" },
		"method":            func(c *CustomTool) { c.Method = "FETCH" },
		"schema type":       func(c *CustomTool) { c.Parameters.Type = "array" },
		"required unknown":  func(c *CustomTool) { c.Parameters.Required = append(c.Parameters.Required, "nope") },
		"timeout too small": func(c *CustomTool) { c.TimeoutMS = 999 },
		"timeout too large": func(c *CustomTool) { c.TimeoutMS = 600001 },
		"retries":           func(c *CustomTool) { c.MaxRetry = 6 },
		"no message":        func(c *CustomTool) { c.ExecutionMessageDescription = "" },
		"message type":      func(c *CustomTool) { c.ExecutionMessageType = "shout" },
		"no description":    func(c *CustomTool) { c.Description = " " },
	}
	if err := ValidateTool(good); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range mutations {
		c := good
		c.Parameters.Properties = map[string]ToolProperty{}
		for k, v := range good.Parameters.Properties {
			c.Parameters.Properties[k] = v
		}
		c.Parameters.Required = slices.Clone(good.Parameters.Required)
		mutate(&c)
		if ValidateTool(c) == nil {
			t.Errorf("%s not caught", name)
		}
	}
}
