package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/retell"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrintsValidTools(t *testing.T) {
	for _, c := range []struct {
		args      []string
		env       map[string]string
		base      string
		wantWords string
	}{
		{nil, nil, DefaultBaseURL, "Termin"},
		{[]string{"-locale", "en"}, map[string]string{"API_BASE_URL": "https://abc.example.org/prod/"}, "https://abc.example.org/prod", "appointment"},
	} {
		var out, errs bytes.Buffer
		if err := run(c.args, env(c.env), &out, &errs); err != nil {
			t.Fatalf("%v: %v (%s)", c.args, err, errs.String())
		}
		var tools []retell.CustomTool
		if err := json.Unmarshal(out.Bytes(), &tools); err != nil {
			t.Fatalf("output is not a tool list: %v", err)
		}
		want := map[string]string{
			"check_availability": "/functions/check-availability", "book_appointment": "/functions/book-appointment",
			"cancel_appointment": "/functions/cancel-appointment", "reschedule_appointment": "/functions/reschedule-appointment",
			"find_appointments": "/functions/find-appointments", "list_services": "/functions/list-services",
		}
		if len(tools) != len(want) {
			t.Fatalf("%d tools, want %d", len(tools), len(want))
		}
		for _, tool := range tools {
			if err := retell.ValidateTool(tool); err != nil {
				t.Errorf("printed an invalid tool: %v", err)
			}
			if tool.URL != c.base+want[tool.Name] || tool.Method != "POST" {
				t.Errorf("%s: %s %s", tool.Name, tool.Method, tool.URL)
			}
			if !tool.SpeakDuringExecution || tool.TimeoutMS < 1000 {
				t.Errorf("%s: speak_during_execution %v, timeout %d", tool.Name, tool.SpeakDuringExecution, tool.TimeoutMS)
			}
		}
		if !strings.Contains(strings.ToLower(out.String()), strings.ToLower(c.wantWords)) {
			t.Errorf("descriptions not in the expected language")
		}
		if !strings.Contains(out.String(), "\n  ") {
			t.Errorf("output is not indented")
		}
	}
}

func TestRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"-locale", "fr"}, nil},
		{nil, map[string]string{"API_BASE_URL": "api.example.com"}},
		{nil, map[string]string{"API_BASE_URL": "ftp://api.example.com"}},
		{[]string{"-nope"}, nil},
	} {
		var out, errs bytes.Buffer
		if err := run(c.args, env(c.env), &out, &errs); err == nil {
			t.Errorf("%v %v: no error", c.args, c.env)
		}
		if out.Len() != 0 {
			t.Errorf("%v %v: printed tools despite the error", c.args, c.env)
		}
	}
}
