// Command retell-tools prints the Retell custom-tool definitions of the
// in-call functions as indented JSON, ready to paste into the agent or to
// upload with Retell's API. The URLs start with API_BASE_URL (default
// https://api.example.com); -locale en prints English descriptions.
//
//	API_BASE_URL=https://abc.execute-api.eu-central-1.amazonaws.com/prod make retell-tools
//
// Every tool is validated against Retell's constraints first; an invalid
// one is an error, never printed.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/telefonagent/gateway/shared/retell"
)

// DefaultBaseURL is used when API_BASE_URL is not set.
const DefaultBaseURL = "https://api.example.com"

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "retell-tools:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("retell-tools", flag.ContinueOnError)
	fs.SetOutput(stderr)
	locale := fs.String("locale", "de", "language of the tool descriptions: de or en")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *locale != "de" && *locale != "en" {
		return fmt.Errorf("-locale must be de or en, not %q", *locale)
	}
	base := strings.TrimSpace(getenv("API_BASE_URL"))
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return errors.New("API_BASE_URL must be an absolute http(s) URL without query, e.g. https://api.example.com/prod")
	}
	tools := retell.Tools(base, *locale)
	var problems []string
	for _, t := range tools {
		if err := retell.ValidateTool(t); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	out, err := json.MarshalIndent(tools, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}
