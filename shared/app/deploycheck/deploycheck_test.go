package deploycheck_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/app/deploycheck"
	"github.com/telefonagent/gateway/shared/catalog"
)

type deployments struct {
	target  deploycheck.Target
	reports []bool
}

func (d *deployments) Target(context.Context, string) (deploycheck.Target, error) {
	return d.target, nil
}
func (d *deployments) Report(_ context.Context, _, _ string, ok bool) error {
	d.reports = append(d.reports, ok)
	return nil
}

// invoker runs the real handlers in process, as Lambda would run the new version.
type invoker struct {
	handlers map[string]apigw.LambdaHandler
	calls    int
}

func (i *invoker) Invoke(ctx context.Context, function, _ string, payload []byte) ([]byte, error) {
	i.calls++
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	name := function[strings.LastIndex(function, "telefonagent-dev-")+len("telefonagent-dev-"):]
	resp, err := i.handlers[name](ctx, ev)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

func TestDeployCheckProbesEveryHTTPFunction(t *testing.T) {
	e := apptest.New(t, apptest.Options{DBName: "deploycheck"})
	hs := map[string]apigw.LambdaHandler{}
	for name, h := range app.HTTPHandlers(e.Deps) {
		hs[name] = apigw.Wrap(name, h, e.Deps.WrapOptions(name))
	}
	for _, fn := range catalog.HTTP() {
		t.Run(fn.Name, func(t *testing.T) {
			dep := &deployments{target: deploycheck.Target{FunctionName: "telefonagent-dev-" + fn.Name, Version: "7"}}
			inv := &invoker{handlers: hs}
			c := &deploycheck.Checker{Deployments: dep, Invoker: inv, RetellKey: apptest.RetellAPIKey, Clock: e.Clock, SmokeNumber: apptest.DemoNumber}
			res, err := c.Run(context.Background(), deploycheck.HookEvent{DeploymentID: "d-1", LifecycleEventHookExecutionID: "x"})
			if err != nil || len(res.Failed) > 0 {
				t.Fatalf("healthy version failed the check: %v %+v", err, res)
			}
			if len(dep.reports) != 1 || !dep.reports[0] || inv.calls == 0 {
				t.Fatalf("reports %v, invocations %d", dep.reports, inv.calls)
			}
		})
	}
}

func TestDeployCheckFailsABrokenVersion(t *testing.T) {
	e := apptest.New(t, apptest.Options{DBName: "deploycheck_broken"})
	broken := func(context.Context, *apigw.Request) (*apigw.Response, error) {
		return apigw.JSON(200, map[string]bool{"ok": true}), nil
	}
	hs := map[string]apigw.LambdaHandler{"check-availability": apigw.Wrap("check-availability", broken, e.Deps.WrapOptions("check-availability"))}
	dep := &deployments{target: deploycheck.Target{FunctionName: "telefonagent-dev-check-availability", Version: "8"}}
	c := &deploycheck.Checker{Deployments: dep, Invoker: &invoker{handlers: hs}, RetellKey: apptest.RetellAPIKey, Clock: e.Clock, SmokeNumber: apptest.DemoNumber}
	res, err := c.Run(context.Background(), deploycheck.HookEvent{DeploymentID: "d-2", LifecycleEventHookExecutionID: "y"})
	if err == nil || len(dep.reports) != 1 || dep.reports[0] {
		t.Fatalf("a version that accepts unsigned requests must fail: err=%v reports=%v", err, dep.reports)
	}
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0], "unsigned") {
		t.Fatalf("failed checks: %v", res.Failed)
	}
}
