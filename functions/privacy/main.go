// Command privacy is the Lambda function of that name in shared/catalog.
// Wiring only: shared/app builds its dependencies from the environment.
package main

import "github.com/telefonagent/gateway/shared/app"

func main() { app.Run("privacy") }
