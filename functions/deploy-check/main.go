// Command deploy-check is the CodeDeploy BeforeAllowTraffic hook: it probes
// the new version with signed synthetic requests. Wiring only.
package main

import (
	"github.com/telefonagent/gateway/shared/app"
	_ "github.com/telefonagent/gateway/shared/app/deploycheck"
)

func main() { app.Run("deploy-check") }
