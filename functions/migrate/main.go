// Command migrate applies schema migrations before new code takes traffic
// (a CDK trigger runs it). Wiring only.
package main

import (
	"github.com/telefonagent/gateway/shared/app"
	_ "github.com/telefonagent/gateway/shared/app/migratefn"
)

func main() { app.Run("migrate") }
