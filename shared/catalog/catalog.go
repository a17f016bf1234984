// Package catalog is the single list of Lambda functions of the bundle. The
// Makefile builds from it, scripts/dev mounts its HTTP routes, and infra/
// creates one Lambda, alias, deployment group and route per entry. Nothing
// else may repeat a function's name, route, timeout or memory.
package catalog

import (
	"sort"
	"time"
)

// Trigger says what invokes a function.
type Trigger string

const (
	TriggerHTTP       Trigger = "http"        // API Gateway REST proxy (v1)
	TriggerSQS        Trigger = "sqs"         // the retry queue
	TriggerSchedule   Trigger = "schedule"    // EventBridge schedule
	TriggerDeployTime Trigger = "deploy_time" // CDK trigger before traffic shifts
	TriggerCodeDeploy Trigger = "codedeploy"  // BeforeAllowTraffic hook
)

// Need names a dependency a function uses; infra grants access only to
// what is listed (least privilege) and health checks only what is needed.
type Need string

const (
	NeedMySQL      Need = "mysql"
	NeedRedis      Need = "redis"
	NeedQueue      Need = "queue"       // may publish to the retry queue
	NeedCalcom     Need = "calcom"      // calls Cal.com (internet egress)
	NeedRetellKey  Need = "retell_key"  // verifies X-Retell-Signature
	NeedCalcomHook Need = "calcom_hook" // verifies X-Cal-Signature-256
	NeedPIIKeys    Need = "pii_keys"    // encrypts/decrypts personal data
	NeedLambda     Need = "lambda"      // invokes other functions (deploy-check)
	NeedCodeDeploy Need = "codedeploy"  // reports hook status
)

// Route is one HTTP method and path.
type Route struct {
	Method string
	Path   string // API Gateway resource path, e.g. /admin/tenants/{tenant}/customers/{id}/export
	// Admin routes use IAM authorisation on AWS and an admin token locally.
	Admin bool
}

// Function is one Lambda of the bundle.
type Function struct {
	Name     string
	Trigger  Trigger
	Routes   []Route // HTTP only
	Schedule string  // EventBridge expression, schedule only
	Timeout  time.Duration
	MemoryMB int
	Needs    []Need
	// InCall marks functions the caller waits on: their alarms use the
	// in-call latency budget (p95 > 1 s) and they answer within 2.5 s.
	InCall bool
	// ReservedConcurrency > 0 caps the function to protect the database.
	ReservedConcurrency int
	Description         string
}

// NeedsAny reports whether f needs any of ns.
func (f Function) NeedsAny(ns ...Need) bool {
	for _, have := range f.Needs {
		for _, n := range ns {
			if have == n {
				return true
			}
		}
	}
	return false
}

const inCallTimeout = 5 * time.Second // hard stop; the handler's own budget is 2.5 s

var inCallNeeds = []Need{NeedMySQL, NeedRedis, NeedQueue, NeedCalcom, NeedRetellKey, NeedPIIKeys}

func inCall(name, path, desc string) Function {
	return Function{
		Name: name, Trigger: TriggerHTTP,
		Routes:  []Route{{Method: "POST", Path: path}},
		Timeout: inCallTimeout, MemoryMB: 256, Needs: inCallNeeds, InCall: true,
		ReservedConcurrency: 0, Description: desc,
	}
}

var functions = []Function{
	{Name: "retell-inbound", Trigger: TriggerHTTP, Routes: []Route{{Method: "POST", Path: "/webhooks/retell/inbound"}},
		Timeout: 5 * time.Second, MemoryMB: 256, InCall: true,
		Needs:       []Need{NeedMySQL, NeedRedis, NeedQueue, NeedRetellKey, NeedPIIKeys},
		Description: "Retell call_inbound: route the dialled number, recognise the caller"},
	{Name: "retell-events", Trigger: TriggerHTTP, Routes: []Route{{Method: "POST", Path: "/webhooks/retell/events"}},
		Timeout: 10 * time.Second, MemoryMB: 256,
		Needs:       []Need{NeedMySQL, NeedQueue, NeedRetellKey, NeedPIIKeys},
		Description: "Retell call_started/ended/analyzed: idempotent call records"},
	inCall("check-availability", "/functions/check-availability", "Free or not, with up to 3 alternatives"),
	inCall("book-appointment", "/functions/book-appointment", "Book exactly once"),
	inCall("cancel-appointment", "/functions/cancel-appointment", "Cancel the caller's appointment under policy"),
	inCall("reschedule-appointment", "/functions/reschedule-appointment", "Move the caller's appointment under policy"),
	inCall("find-appointments", "/functions/find-appointments", "The caller's upcoming appointments"),
	inCall("list-services", "/functions/list-services", "The branch's bookable services"),
	{Name: "calcom-webhook", Trigger: TriggerHTTP, Routes: []Route{{Method: "POST", Path: "/webhooks/calcom"}},
		Timeout: 10 * time.Second, MemoryMB: 256,
		Needs:       []Need{NeedMySQL, NeedRedis, NeedQueue, NeedCalcomHook, NeedPIIKeys},
		Description: "Cal.com booking webhooks: tenant-scoped sync"},
	{Name: "retry-worker", Trigger: TriggerSQS, Timeout: 30 * time.Second, MemoryMB: 256, ReservedConcurrency: 5,
		Needs:       []Need{NeedMySQL, NeedRedis, NeedQueue, NeedCalcom, NeedPIIKeys},
		Description: "Retry queue consumer: unknown outcomes, deferred webhooks, prefetch"},
	{Name: "health", Trigger: TriggerHTTP, Routes: []Route{
		{Method: "GET", Path: "/health"}, {Method: "GET", Path: "/readiness"},
		{Method: "GET", Path: "/liveness"}, {Method: "GET", Path: "/ping"}},
		Timeout: 3 * time.Second, MemoryMB: 128,
		Needs:       []Need{NeedMySQL, NeedRedis, NeedQueue},
		Description: "Liveness and readiness: DB, Redis, queue depth"},
	{Name: "privacy", Trigger: TriggerHTTP, Routes: []Route{
		{Method: "GET", Path: "/admin/tenants/{tenant}/customers/{id}/export", Admin: true},
		{Method: "POST", Path: "/admin/tenants/{tenant}/customers/{id}/erase", Admin: true}},
		Timeout: 30 * time.Second, MemoryMB: 256,
		Needs:       []Need{NeedMySQL, NeedRedis, NeedCalcom, NeedPIIKeys},
		Description: "GDPR export and erasure, audited"},
	{Name: "retention", Trigger: TriggerSchedule, Schedule: "cron(15 3 * * ? *)", Timeout: 5 * time.Minute, MemoryMB: 256,
		ReservedConcurrency: 1, Needs: []Need{NeedMySQL},
		Description: "Daily purge by retention policy"},
	{Name: "reconcile", Trigger: TriggerSchedule, Schedule: "cron(45 3 * * ? *)", Timeout: 5 * time.Minute, MemoryMB: 256,
		ReservedConcurrency: 1, Needs: []Need{NeedMySQL, NeedRedis, NeedCalcom, NeedPIIKeys},
		Description: "Daily Cal.com ↔ appointments reconciliation"},
	{Name: "migrate", Trigger: TriggerDeployTime, Timeout: 5 * time.Minute, MemoryMB: 256,
		Needs: []Need{NeedMySQL}, Description: "Apply schema migrations before new code takes traffic"},
	{Name: "deploy-check", Trigger: TriggerCodeDeploy, Timeout: 60 * time.Second, MemoryMB: 128,
		Needs:       []Need{NeedRetellKey, NeedLambda, NeedCodeDeploy},
		Description: "CodeDeploy BeforeAllowTraffic: signed synthetic requests against the new version"},
}

// All returns every catalogued function, in catalogue order.
func All() []Function {
	out := make([]Function, len(functions))
	copy(out, functions)
	return out
}

// Lookup returns the function with that name.
func Lookup(name string) (Function, bool) {
	for _, f := range functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// HTTP returns the HTTP-triggered functions.
func HTTP() []Function {
	var out []Function
	for _, f := range functions {
		if f.Trigger == TriggerHTTP {
			out = append(out, f)
		}
	}
	return out
}

// Names returns all names, sorted.
func Names() []string {
	out := make([]string, 0, len(functions))
	for _, f := range functions {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}
