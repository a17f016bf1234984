// Package deploycheck is the CodeDeploy BeforeAllowTraffic hook: before a
// new version of a function receives any traffic, it invokes that version
// with signed synthetic requests and reports Succeeded or Failed. A failed
// check stops the deployment with no traffic shifted.
package deploycheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/catalog"
	"github.com/telefonagent/gateway/shared/retell"
)

// HookEvent is what CodeDeploy sends to a lifecycle hook.
type HookEvent struct {
	DeploymentID                  string `json:"DeploymentId"`
	LifecycleEventHookExecutionID string `json:"LifecycleEventHookExecutionId"`
}

// Target is the function version under test.
type Target struct {
	FunctionName string // physical name
	Version      string
}

// Deployments is the part of CodeDeploy the hook uses.
type Deployments interface {
	Target(ctx context.Context, deploymentID string) (Target, error)
	Report(ctx context.Context, deploymentID, executionID string, ok bool) error
}

// Invoker invokes a function version with a payload.
type Invoker interface {
	Invoke(ctx context.Context, function, version string, payload []byte) ([]byte, error)
}

// Checker runs the synthetic requests.
type Checker struct {
	Deployments Deployments
	Invoker     Invoker
	RetellKey   string
	Clock       booking.Clock
	// SmokeNumber is the dialled number of the dedicated smoke-test tenant
	// (SMOKE_TO_NUMBER): check-availability runs against it, never against
	// a real business.
	SmokeNumber string
	// NameOf maps a physical function name to its catalogue name
	// (default: strip everything up to the last "-<catalogue name>").
	NameOf func(physical string) string
}

// Result lists each check.
type Result struct {
	Function string   `json:"function"`
	Version  string   `json:"version"`
	Passed   []string `json:"passed"`
	Failed   []string `json:"failed"`
}

// Run checks the deployment's new version and reports to CodeDeploy. It
// reports Failed on any failed check and on any error of its own.
func (c *Checker) Run(ctx context.Context, ev HookEvent) (Result, error) {
	var res Result
	t, err := c.Deployments.Target(ctx, ev.DeploymentID)
	if err == nil {
		res, err = c.check(ctx, t)
	}
	ok := err == nil && len(res.Failed) == 0
	if rerr := c.Deployments.Report(ctx, ev.DeploymentID, ev.LifecycleEventHookExecutionID, ok); rerr != nil {
		return res, rerr
	}
	if err != nil {
		return res, err
	}
	if !ok {
		return res, fmt.Errorf("deploy check failed: %s", strings.Join(res.Failed, "; "))
	}
	return res, nil
}

func (c *Checker) catalogName(physical string) string {
	if c.NameOf != nil {
		return c.NameOf(physical)
	}
	for _, n := range catalog.Names() {
		if physical == n || strings.HasSuffix(physical, "-"+n) {
			return n
		}
	}
	return physical
}

func (c *Checker) check(ctx context.Context, t Target) (Result, error) {
	res := Result{Function: t.FunctionName, Version: t.Version}
	fn, ok := catalog.Lookup(c.catalogName(t.FunctionName))
	if !ok || fn.Trigger != catalog.TriggerHTTP {
		res.Passed = append(res.Passed, "no HTTP route: nothing to probe")
		return res, nil
	}
	probe := func(name, method, path string, body []byte, sign bool, want func(status int, body string) bool) {
		headers := map[string]string{"Content-Type": "application/json"}
		if sign {
			headers[retell.SignatureHeader] = retell.Sign(body, c.RetellKey, c.now().UnixMilli())
		}
		req := events.APIGatewayProxyRequest{HTTPMethod: method, Path: path, Resource: path, Headers: headers, Body: string(body),
			RequestContext: events.APIGatewayProxyRequestContext{RequestID: "deploy-check-" + name}}
		payload, _ := json.Marshal(req)
		out, err := c.Invoker.Invoke(ctx, t.FunctionName, t.Version, payload)
		if err != nil {
			res.Failed = append(res.Failed, name+": invoke: "+err.Error())
			return
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			res.Failed = append(res.Failed, name+": not an API Gateway response")
			return
		}
		if !want(resp.StatusCode, resp.Body) {
			res.Failed = append(res.Failed, fmt.Sprintf("%s: unexpected status %d", name, resp.StatusCode))
			return
		}
		res.Passed = append(res.Passed, name)
	}
	route := fn.Routes[0]
	switch {
	case fn.Name == "health":
		probe("health", "GET", "/health", nil, false, func(s int, _ string) bool { return s == 200 })
	case fn.InCall || strings.HasPrefix(route.Path, "/webhooks/retell"):
		body := c.smokeBody(fn)
		probe("signed request", route.Method, route.Path, body, true, func(s int, b string) bool {
			if fn.Name == "check-availability" {
				return s == 200 && strings.Contains(b, `"ok"`)
			}
			return s >= 200 && s < 300
		})
		probe("unsigned request rejected", route.Method, route.Path, body, false, func(s int, _ string) bool { return s == 401 })
	case route.Admin:
		probe("unauthenticated admin request rejected", route.Method, "/admin/tenants/smoke/customers/1/export", nil, false,
			func(s int, _ string) bool { return s == 401 || s == 403 })
	default:
		probe("unsigned webhook rejected", route.Method, route.Path, []byte(`{}`), false, func(s int, _ string) bool { return s == 401 })
	}
	return res, nil
}

func (c *Checker) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

// smokeBody is a harmless request per function: a read against the smoke
// tenant. Writes (book, cancel, reschedule) are probed with a read-only
// check too: the signature and envelope path is what changes with code.
func (c *Checker) smokeBody(fn catalog.Function) []byte {
	switch fn.Name {
	case "retell-inbound":
		b, _ := json.Marshal(map[string]any{"event": "call_inbound", "call_inbound": map[string]any{"from_number": "anonymous", "to_number": c.SmokeNumber}})
		return b
	case "retell-events":
		b, _ := json.Marshal(map[string]any{"event": "transcript_updated", "call": map[string]any{"call_id": "deploy_check", "agent_id": "deploy_check",
			"call_type": "phone_call", "call_status": "ongoing", "direction": "inbound", "from_number": "anonymous", "to_number": c.SmokeNumber}})
		return b
	}
	args := map[string]string{"service": "", "date": "morgen", "time": "10 Uhr"}
	if fn.Name != "check-availability" {
		args = map[string]string{}
	}
	b, _ := json.Marshal(map[string]any{"name": strings.ReplaceAll(fn.Name, "-", "_"),
		"call": map[string]any{"call_id": "deploy_check_" + fn.Name, "from_number": "anonymous", "to_number": c.SmokeNumber},
		"args": args})
	if fn.Name != "check-availability" && fn.Name != "list-services" && fn.Name != "find-appointments" {
		// Writes: an anonymous caller without contact data is answered
		// without touching Cal.com (contact_needed / anonymous_caller).
		return b
	}
	return b
}

// AWS adapters.

type awsDeployments struct{ c *codedeploy.Client }

func (a awsDeployments) Target(ctx context.Context, id string) (Target, error) {
	ts, err := a.c.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: &id})
	if err != nil || len(ts.TargetIds) == 0 {
		return Target{}, fmt.Errorf("deployment %s has no target: %v", id, err)
	}
	out, err := a.c.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: &id, TargetId: &ts.TargetIds[0]})
	if err != nil || out.DeploymentTarget == nil || out.DeploymentTarget.LambdaTarget == nil || out.DeploymentTarget.LambdaTarget.LambdaFunctionInfo == nil {
		return Target{}, fmt.Errorf("deployment %s: no Lambda target: %v", id, err)
	}
	info := out.DeploymentTarget.LambdaTarget.LambdaFunctionInfo
	return Target{FunctionName: deref(info.FunctionName), Version: deref(info.TargetVersion)}, nil
}

func (a awsDeployments) Report(ctx context.Context, id, exec string, ok bool) error {
	st := cdtypes.LifecycleEventStatusFailed
	if ok {
		st = cdtypes.LifecycleEventStatusSucceeded
	}
	_, err := a.c.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId: &id, LifecycleEventHookExecutionId: &exec, Status: st})
	return err
}

type awsInvoker struct{ c *lambda.Client }

func (a awsInvoker) Invoke(ctx context.Context, function, version string, payload []byte) ([]byte, error) {
	out, err := a.c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &function, Qualifier: &version, Payload: payload})
	if err != nil {
		return nil, err
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("function error: %s", *out.FunctionError)
	}
	return out.Payload, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func init() {
	app.RegisterInvocation("deploy-check", func(ctx context.Context, d *app.Deps, raw json.RawMessage) (any, error) {
		var ev HookEvent
		if err := json.Unmarshal(raw, &ev); err != nil || ev.DeploymentID == "" {
			return nil, fmt.Errorf("not a CodeDeploy hook event")
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(d.Config.Region))
		if err != nil {
			return nil, err
		}
		c := &Checker{Deployments: awsDeployments{codedeploy.NewFromConfig(awsCfg)}, Invoker: awsInvoker{lambda.NewFromConfig(awsCfg)},
			RetellKey: d.RetellAPIKey, Clock: d.Clock, SmokeNumber: os.Getenv("SMOKE_TO_NUMBER")}
		res, err := c.Run(ctx, ev)
		d.Logger.InfoContext(ctx, "deploy check", "function", res.Function, "version", res.Version, "passed", res.Passed, "failed", res.Failed)
		return res, err
	})
}
