// Command cdkapp is the CDK app (cdk.json at the repository root runs it
// with `cd infra && go run ./cmd/cdkapp`).
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"

	"github.com/telefonagent/gateway/infra"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
}

func run() error {
	// cdk.json makes CDK_OUTDIR absolute before `cd infra`: the jsii kernel
	// starts at package init with this process' environment and working
	// directory, so it cannot be fixed from here.
	app := infra.NewApp(nil)
	cfg, err := infra.ConfigFromContext(app)
	if err != nil {
		return err
	}
	if _, err := infra.Build(app, cfg); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
