// Command catalog prints the function catalogue for the Makefile and for
// operators: `go run ./scripts/catalog names` lists every function name,
// `go run ./scripts/catalog table` prints trigger, routes, timeout and memory.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/telefonagent/gateway/shared/catalog"
)

func main() {
	cmd := "table"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "names":
		for _, n := range catalog.Names() {
			fmt.Println(n)
		}
	case "table":
		for _, f := range catalog.All() {
			var routes []string
			for _, r := range f.Routes {
				routes = append(routes, r.Method+" "+r.Path)
			}
			if f.Schedule != "" {
				routes = append(routes, f.Schedule)
			}
			fmt.Printf("%-24s %-12s %-6s %4d MB  %s\n", f.Name, f.Trigger, f.Timeout, f.MemoryMB, strings.Join(routes, ", "))
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: catalog names|table")
		os.Exit(2)
	}
}
