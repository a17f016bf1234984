package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/telefonagent/gateway/shared/catalog"
)

// One jsii kernel for the whole package (starting one costs ~2.5 s).
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// synthesized is one stage's stacks and their templates as plain JSON.
type synthesized struct {
	stacks    *Stacks
	templates map[string]tmpl   // "Network", "Data", "App"
	raw       map[string][]byte // the same templates as CloudFormation gets them
}

type tmpl struct {
	Resources map[string]resource `json:"Resources"`
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DependsOn      []string       `json:"DependsOn"`
	UpdatePolicy   map[string]any `json:"UpdatePolicy"`
	DeletionPolicy string         `json:"DeletionPolicy"`
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
)

// synth builds (once per context) an app for the given context and parses
// its templates. Each call with a new context costs one synth (~5-15 s).
func synth(t *testing.T, context map[string]any) *synthesized {
	t.Helper()
	key := fmt.Sprint(context)
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[key]; ok {
		return s
	}
	app := NewApp(context)
	cfg, err := ConfigFromContext(app)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	stacks, err := Build(app, cfg)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	s := &synthesized{stacks: stacks, templates: map[string]tmpl{}, raw: map[string][]byte{}}
	all := map[string]awscdk.Stack{"Network": stacks.Network.Stack, "Data": stacks.Data.Stack, "App": stacks.App.Stack}
	if stacks.DR != nil {
		all["DR"] = stacks.DR
	}
	for name, st := range all {
		raw, err := json.Marshal(assertions.Template_FromStack(st, nil).ToJSON())
		if err != nil {
			t.Fatal(err)
		}
		var tp tmpl
		if err := json.Unmarshal(raw, &tp); err != nil {
			t.Fatal(err)
		}
		s.templates[name] = tp
		s.raw[name] = raw
	}
	synthCache[key] = s
	return s
}

func dev(t *testing.T) *synthesized { return synth(t, map[string]any{"stage": "dev"}) }
func prod(t *testing.T) *synthesized {
	return synth(t, map[string]any{"stage": "prod", "alarmEmail": "ops@example.com"})
}

func (s *synthesized) ofType(stack, typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range s.templates[stack].Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// refersTo reports whether a property value references the logical id.
func refersTo(v any, id string) bool {
	return strings.Contains(js(v), `"Ref":"`+id+`"`) || strings.Contains(js(v), `["`+id+`",`)
}

// resolveID is the logical id of a construct's CloudFormation resource.
func resolveID(stack awscdk.Stack, element any) string {
	el, ok := element.(awscdk.CfnElement)
	if !ok {
		panic(fmt.Sprintf("%T is not a CfnElement", element))
	}
	return *stack.GetLogicalId(el)
}

func TestEveryCatalogFunctionHasFunctionAliasAndDeploymentGroup(t *testing.T) {
	for _, stage := range []struct {
		name   string
		s      *synthesized
		config string
	}{{"dev", dev(t), "CodeDeployDefault.LambdaAllAtOnce"}, {"prod", prod(t), "CodeDeployDefault.LambdaCanary10Percent5Minutes"}} {
		t.Run(stage.name, func(t *testing.T) {
			s := stage.s
			app := s.stacks.App
			fns := s.ofType("App", "AWS::Lambda::Function")
			aliases := s.ofType("App", "AWS::Lambda::Alias")
			groups := s.ofType("App", "AWS::CodeDeploy::DeploymentGroup")
			alarms := s.ofType("App", "AWS::CloudWatch::Alarm")
			hookID := resolveID(app.Stack, app.Units["deploy-check"].Fn.Node().DefaultChild())
			for _, f := range catalog.All() {
				u := app.Units[f.Name]
				if u == nil {
					t.Fatalf("%s: no unit", f.Name)
				}
				fnID := resolveID(app.Stack, u.Fn.Node().DefaultChild())
				fn, ok := fns[fnID]
				if !ok {
					t.Fatalf("%s: no AWS::Lambda::Function %s", f.Name, fnID)
				}
				p := fn.Properties
				if p["FunctionName"] != physicalName(s.stacks.Config, f.Name) || p["Runtime"] != "provided.al2023" ||
					js(p["Architectures"]) != `["arm64"]` || p["Handler"] != "bootstrap" ||
					p["MemorySize"] != float64(f.MemoryMB) || p["Timeout"] != f.Timeout.Seconds() ||
					js(p["TracingConfig"]) != `{"Mode":"Active"}` {
					t.Errorf("%s: function properties %s", f.Name, js(p))
				}
				if f.ReservedConcurrency > 0 && p["ReservedConcurrentExecutions"] != float64(f.ReservedConcurrency) {
					t.Errorf("%s: reserved concurrency %v, want %d", f.Name, p["ReservedConcurrentExecutions"], f.ReservedConcurrency)
				}
				if f.ReservedConcurrency == 0 && p["ReservedConcurrentExecutions"] != nil {
					t.Errorf("%s: unexpected reserved concurrency", f.Name)
				}
				if strings.Contains(strings.ToLower(js(p["Environment"])), "resolve:secretsmanager") {
					t.Errorf("%s: secret value in the environment", f.Name)
				}

				aliasID := resolveID(app.Stack, u.Alias.Node().DefaultChild())
				al, ok := aliases[aliasID]
				if !ok || al.Properties["Name"] != AliasName || !refersTo(al.Properties["FunctionName"], fnID) {
					t.Fatalf("%s: live alias missing or wrong: %s", f.Name, js(al))
				}
				upd := js(al.UpdatePolicy)
				groupID := resolveID(app.Stack, app.Groups[f.Name].Node().DefaultChild())
				if !strings.Contains(upd, "CodeDeployLambdaAliasUpdate") || !refersTo(al.UpdatePolicy, groupID) {
					t.Errorf("%s: alias not released by its deployment group: %s", f.Name, upd)
				}
				if serving(f) != refersTo(al.UpdatePolicy["CodeDeployLambdaAliasUpdate"], hookID) {
					t.Errorf("%s: deploy-check pre-traffic hook present=%v, want %v", f.Name, !serving(f), serving(f))
				}

				g := groups[groupID].Properties
				want := stage.config
				if !serving(f) {
					want = "CodeDeployDefault.LambdaAllAtOnce"
				}
				if g["DeploymentConfigName"] != want {
					t.Errorf("%s: deployment config %v, want %s", f.Name, g["DeploymentConfigName"], want)
				}
				rb := js(g["AutoRollbackConfiguration"])
				if !strings.Contains(rb, "DEPLOYMENT_FAILURE") || !strings.Contains(rb, "DEPLOYMENT_STOP_ON_ALARM") || !strings.Contains(rb, `"Enabled":true`) {
					t.Errorf("%s: auto rollback %s", f.Name, rb)
				}
				var names []string
				for _, a := range app.RollbackAlarms[f.Name] {
					id := resolveID(app.Stack, a.Node().DefaultChild())
					if _, ok := alarms[id]; !ok {
						t.Errorf("%s: alarm %s not in template", f.Name, id)
					}
					if !refersTo(g["AlarmConfiguration"], id) {
						t.Errorf("%s: group does not watch alarm %s", f.Name, id)
					}
					names = append(names, alarms[id].Properties["AlarmName"].(string))
				}
				wantAlarms := []string{"-errors", "-p95"}
				if f.Trigger == catalog.TriggerHTTP {
					wantAlarms = append(wantAlarms, "-5xx")
				}
				for _, suffix := range wantAlarms {
					found := false
					for _, n := range names {
						found = found || strings.HasSuffix(n, suffix)
					}
					if !found {
						t.Errorf("%s: no rollback alarm *%s among %v", f.Name, suffix, names)
					}
				}
			}
		})
	}
}

// apiPaths maps API Gateway resource logical ids to their full path.
func apiPaths(s *synthesized) map[string]string {
	res := s.ofType("App", "AWS::ApiGateway::Resource")
	paths := map[string]string{}
	var resolve func(id string) string
	resolve = func(id string) string {
		if p, ok := paths[id]; ok {
			return p
		}
		r, ok := res[id]
		if !ok {
			return "" // the root
		}
		parent := ""
		if m, ok := r.Properties["ParentId"].(map[string]any); ok {
			if ref, ok := m["Ref"].(string); ok {
				parent = resolve(ref)
			}
		}
		p := parent + "/" + r.Properties["PathPart"].(string)
		paths[id] = p
		return p
	}
	for id := range res {
		resolve(id)
	}
	return paths
}

func TestEveryRouteInvokesTheLiveAlias(t *testing.T) {
	s := dev(t)
	app := s.stacks.App
	paths := apiPaths(s)
	methods := s.ofType("App", "AWS::ApiGateway::Method")
	type key struct{ method, path string }
	found := map[key]resource{}
	for _, m := range methods {
		ref := ""
		if rid, ok := m.Properties["ResourceId"].(map[string]any); ok {
			ref, _ = rid["Ref"].(string)
		}
		found[key{m.Properties["HttpMethod"].(string), paths[ref]}] = m
	}
	n := 0
	for _, f := range catalog.HTTP() {
		aliasID := resolveID(app.Stack, app.Units[f.Name].Alias.Node().DefaultChild())
		for _, r := range f.Routes {
			n++
			m, ok := found[key{r.Method, r.Path}]
			if !ok {
				t.Errorf("%s %s (%s): no method", r.Method, r.Path, f.Name)
				continue
			}
			integ := m.Properties["Integration"].(map[string]any)
			if integ["Type"] != "AWS_PROXY" || !refersTo(integ["Uri"], aliasID) {
				t.Errorf("%s %s: integration does not invoke %s's live alias: %s", r.Method, r.Path, f.Name, js(integ))
			}
			wantAuth := "NONE"
			if r.Admin {
				wantAuth = "AWS_IAM"
			}
			if m.Properties["AuthorizationType"] != wantAuth {
				t.Errorf("%s %s: authorization %v, want %s", r.Method, r.Path, m.Properties["AuthorizationType"], wantAuth)
			}
		}
	}
	if len(methods) != n {
		t.Errorf("%d API methods, catalogue has %d routes", len(methods), n)
	}
	stage := s.ofType("App", "AWS::ApiGateway::Stage")
	for _, st := range stage {
		p := js(st.Properties)
		for _, want := range []string{`"TracingEnabled":true`, `"AccessLogSetting"`, `"ThrottlingRateLimit"`, `"DataTraceEnabled":false`} {
			if !strings.Contains(p, want) {
				t.Errorf("stage lacks %s: %s", want, p)
			}
		}
	}
}

func TestQueueAndSchedulesPointAtAliases(t *testing.T) {
	s := prod(t)
	app := s.stacks.App
	queueID := resolveID(app.Stack, app.Queue.Node().DefaultChild())
	dlqID := resolveID(app.Stack, app.DLQ.Node().DefaultChild())
	queues := s.ofType("App", "AWS::SQS::Queue")
	q, dlq := queues[queueID].Properties, queues[dlqID].Properties
	var workerTimeout float64
	for _, f := range catalog.All() {
		if f.Trigger == catalog.TriggerSQS && f.Timeout.Seconds() > workerTimeout {
			workerTimeout = f.Timeout.Seconds()
		}
	}
	if v, _ := q["VisibilityTimeout"].(float64); v < 6*workerTimeout {
		t.Errorf("visibility %v < 6 × worker timeout %v", v, workerTimeout)
	}
	if q["SqsManagedSseEnabled"] != true || dlq["SqsManagedSseEnabled"] != true {
		t.Errorf("queues without SSE: %s / %s", js(q), js(dlq))
	}
	rp := js(q["RedrivePolicy"])
	if !strings.Contains(rp, `"maxReceiveCount":5`) || !strings.Contains(rp, dlqID) {
		t.Errorf("redrive policy %s", rp)
	}
	if dlq["MessageRetentionPeriod"] != float64(14*24*3600) {
		t.Errorf("DLQ retention %v", dlq["MessageRetentionPeriod"])
	}

	esms := s.ofType("App", "AWS::Lambda::EventSourceMapping")
	for _, f := range catalog.All() {
		aliasID := resolveID(app.Stack, app.Units[f.Name].Alias.Node().DefaultChild())
		switch f.Trigger {
		case catalog.TriggerSQS:
			ok := false
			for _, e := range esms {
				if refersTo(e.Properties["FunctionName"], aliasID) && refersTo(e.Properties["EventSourceArn"], queueID) &&
					js(e.Properties["FunctionResponseTypes"]) == `["ReportBatchItemFailures"]` {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: no SQS event source on the live alias with ReportBatchItemFailures", f.Name)
			}
		case catalog.TriggerSchedule:
			ok := false
			for _, r := range s.ofType("App", "AWS::Events::Rule") {
				if r.Properties["ScheduleExpression"] == f.Schedule && refersTo(r.Properties["Targets"], aliasID) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: no EventBridge rule %q targeting the live alias", f.Name, f.Schedule)
			}
		}
	}
}

func TestMigrateTriggerRunsBeforeEveryOtherFunction(t *testing.T) {
	s := dev(t)
	app := s.stacks.App
	var triggerID string
	for id, r := range s.templates["App"].Resources {
		if r.Type == "Custom::Trigger" {
			triggerID = id
			if r.Properties["InvocationType"] != "RequestResponse" {
				t.Errorf("trigger invocation %v", r.Properties["InvocationType"])
			}
		}
	}
	if triggerID == "" {
		t.Fatal("no migrate trigger")
	}
	for _, f := range catalog.All() {
		if f.Trigger == catalog.TriggerDeployTime {
			continue
		}
		u := app.Units[f.Name]
		for what, id := range map[string]string{
			"function": resolveID(app.Stack, u.Fn.Node().DefaultChild()),
			"alias":    resolveID(app.Stack, u.Alias.Node().DefaultChild()),
		} {
			deps := s.templates["App"].Resources[id].DependsOn
			if !contains(deps, triggerID) {
				t.Errorf("%s %s does not wait for the migrate trigger (DependsOn %v)", f.Name, what, deps)
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestDatabaseAndRedis(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *synthesized
		prod bool
	}{{"dev", dev(t), false}, {"prod", prod(t), true}} {
		t.Run(c.name, func(t *testing.T) {
			s := c.s
			dbs := s.ofType("Data", "AWS::RDS::DBInstance")
			if len(dbs) != 1 {
				t.Fatalf("%d DB instances", len(dbs))
			}
			for _, db := range dbs {
				p := db.Properties
				if p["StorageEncrypted"] != true || p["BackupRetentionPeriod"] != float64(30) || p["EnablePerformanceInsights"] != true ||
					p["EnableIAMDatabaseAuthentication"] != true || p["Engine"] != "mysql" || !strings.HasPrefix(p["EngineVersion"].(string), "8.") {
					t.Errorf("DB properties %s", js(p))
				}
				if (p["DeletionProtection"] == true) != c.prod || (p["MultiAZ"] == true) != c.prod {
					t.Errorf("DeletionProtection=%v MultiAZ=%v in %s", p["DeletionProtection"], p["MultiAZ"], c.name)
				}
				wantPolicy := "Delete"
				if c.prod {
					wantPolicy = "Snapshot"
				}
				if db.DeletionPolicy != wantPolicy {
					t.Errorf("DeletionPolicy %q, want %q", db.DeletionPolicy, wantPolicy)
				}
			}
			for _, px := range s.ofType("Data", "AWS::RDS::DBProxy") {
				p := js(px.Properties)
				if !strings.Contains(p, `"RequireTLS":true`) || !strings.Contains(p, `"IAMAuth":"REQUIRED"`) {
					t.Errorf("proxy %s", p)
				}
			}
			if len(s.ofType("Data", "AWS::RDS::DBProxy")) != 1 || len(s.ofType("Data", "AWS::SecretsManager::RotationSchedule")) != 1 ||
				len(s.ofType("Data", "AWS::Backup::BackupPlan")) != 1 || len(s.ofType("Data", "AWS::Backup::BackupSelection")) != 1 {
				t.Error("missing proxy, credential rotation or backup plan")
			}
			params := js(s.ofType("Data", "AWS::RDS::DBParameterGroup"))
			if !strings.Contains(params, `"require_secure_transport":"ON"`) {
				t.Errorf("parameter group %s", params)
			}
			rgs := s.ofType("Data", "AWS::ElastiCache::ReplicationGroup")
			if len(rgs) != 1 {
				t.Fatalf("%d replication groups", len(rgs))
			}
			for _, rg := range rgs {
				p := rg.Properties
				if p["TransitEncryptionEnabled"] != true || p["AtRestEncryptionEnabled"] != true || p["TransitEncryptionMode"] != "required" {
					t.Errorf("redis encryption %s", js(p))
				}
				if !strings.Contains(js(p["AuthToken"]), "resolve:secretsmanager") {
					t.Errorf("redis AUTH token not from Secrets Manager: %s", js(p["AuthToken"]))
				}
				if (p["AutomaticFailoverEnabled"] == true) != c.prod {
					t.Errorf("automatic failover %v in %s", p["AutomaticFailoverEnabled"], c.name)
				}
			}
		})
	}
}

func TestWAF(t *testing.T) {
	s := dev(t)
	app := s.stacks.App
	stageID := resolveID(app.Stack, app.API.DeploymentStage().Node().DefaultChild())
	aclID := resolveID(app.Stack, app.WebACL)
	assoc := s.ofType("App", "AWS::WAFv2::WebACLAssociation")
	if len(assoc) != 1 {
		t.Fatalf("%d WAF associations", len(assoc))
	}
	for _, a := range assoc {
		if !refersTo(a.Properties["WebACLArn"], aclID) || !strings.Contains(js(a.Properties["ResourceArn"]), stageID) {
			t.Errorf("WAF association %s", js(a.Properties))
		}
	}
	rules := js(s.templates["App"].Resources[aclID].Properties["Rules"])
	for _, want := range []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "RateBasedStatement"} {
		if !strings.Contains(rules, want) {
			t.Errorf("web ACL lacks %s", want)
		}
	}
	if strings.Contains(rules, "FunctionsOnlyFromRetell") {
		t.Error("the Retell allow-list must be off by default")
	}

	on := synth(t, map[string]any{"stage": "dev", "retellIpAllowList": "100.20.5.228, 34.226.180.0/24"})
	aclID = resolveID(on.stacks.App.Stack, on.stacks.App.WebACL)
	rules = js(on.templates["App"].Resources[aclID].Properties["Rules"])
	if !strings.Contains(rules, "FunctionsOnlyFromRetell") || !strings.Contains(rules, "/functions/") {
		t.Errorf("allow-list rule missing: %s", rules)
	}
	sets := js(on.ofType("App", "AWS::WAFv2::IPSet"))
	if !strings.Contains(sets, "100.20.5.228/32") || !strings.Contains(sets, "34.226.180.0/24") {
		t.Errorf("IP set %s", sets)
	}
}

// statements returns every IAM policy statement of a template.
func statements(tp tmpl) []map[string]any {
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["Effect"]; ok {
				if _, ok := x["Action"]; ok {
					out = append(out, x)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, r := range tp.Resources {
		if strings.HasPrefix(r.Type, "AWS::IAM::") {
			walk(r.Properties)
		}
	}
	return out
}

func asList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if str, ok := e.(string); ok {
				out = append(out, str)
			} else {
				out = append(out, js(e))
			}
		}
		return out
	}
	return []string{js(v)}
}

func TestNoStarActionOnStarResource(t *testing.T) {
	for _, s := range []*synthesized{dev(t), prod(t)} {
		for name, tp := range s.templates {
			for _, st := range statements(tp) {
				starAction, starResource := false, false
				for _, a := range asList(st["Action"]) {
					starAction = starAction || a == "*" || strings.HasSuffix(a, ":*")
				}
				for _, r := range asList(st["Resource"]) {
					starResource = starResource || r == "*"
				}
				if starAction && starResource {
					t.Errorf("%s %s: wildcard action on every resource: %s", s.stacks.Config.Stage, name, js(st))
				}
			}
		}
	}
}

// secretOf names the Data-stack secret each secret-implying Need grants.
var secretOf = map[catalog.Need]string{
	catalog.NeedRetellKey:  "RetellApiKey",
	catalog.NeedCalcom:     "CalcomApiKey",
	catalog.NeedCalcomHook: "CalcomWebhookSecret",
	catalog.NeedPIIKeys:    "PiiKeys",
	catalog.NeedRedis:      "RedisAuth",
}

func TestEachFunctionReadsExactlyTheSecretsItNeeds(t *testing.T) {
	s := prod(t)
	app := s.stacks.App
	policies := s.ofType("App", "AWS::IAM::Policy")
	for _, f := range catalog.All() {
		roleID := resolveID(app.Stack, app.Units[f.Name].Role.Node().DefaultChild())
		got := map[string]bool{}
		for _, p := range policies {
			if !refersTo(p.Properties["Roles"], roleID) {
				continue
			}
			for _, st := range statements(tmpl{Resources: map[string]resource{"p": {Type: "AWS::IAM::Policy", Properties: p.Properties}}}) {
				if !strings.Contains(js(st["Action"]), "secretsmanager:GetSecretValue") {
					continue
				}
				res := js(st["Resource"])
				matched := false
				for _, secret := range secretOf {
					if strings.Contains(res, "ExportsOutputRef"+secret) {
						got[secret], matched = true, true
					}
				}
				if !matched {
					t.Errorf("%s: reads an unexpected secret: %s", f.Name, res)
				}
			}
		}
		want := map[string]bool{}
		for _, n := range f.Needs {
			if secret, ok := secretOf[n]; ok {
				want[secret] = true
			}
		}
		if js(sorted(got)) != js(sorted(want)) {
			t.Errorf("%s reads secrets %v, its Needs imply %v", f.Name, sorted(got), sorted(want))
		}
	}
}

func sorted(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestAlarmsAndDashboardUseTheSharedMetricNames(t *testing.T) {
	s := prod(t)
	app := s.stacks.App
	alarms := s.ofType("App", "AWS::CloudWatch::Alarm")
	byName := map[string]resource{}
	for _, a := range alarms {
		byName[a.Properties["AlarmName"].(string)] = a
	}
	p := s.stacks.Config.Prefix()
	want := []string{p + "-api-5xx", p + "-signature-failures", p + "-booking-failure-rate", p + "-dlq-not-empty", p + "-db-connections"}
	for _, n := range s.stacks.Data.RedisNodeIDs {
		want = append(want, n+"-memory")
	}
	for _, f := range catalog.All() {
		want = append(want, physicalName(s.stacks.Config, f.Name)+"-throttles", physicalName(s.stacks.Config, f.Name)+"-errors")
		if f.InCall {
			want = append(want, physicalName(s.stacks.Config, f.Name)+"-incall-p95")
		}
	}
	for _, n := range want {
		a, ok := byName[n]
		if !ok {
			t.Errorf("no alarm %s", n)
			continue
		}
		if !strings.Contains(js(a.Properties["AlarmActions"]), resolveID(app.Stack, app.Topic.Node().DefaultChild())) {
			t.Errorf("alarm %s does not notify the topic", n)
		}
	}
	if th := byName[p+"-db-connections"].Properties["Threshold"]; th != 0.8*float64(s.stacks.Config.DBMaxConnections) {
		t.Errorf("DB connections threshold %v", th)
	}
	if !strings.Contains(js(s.ofType("Data", "AWS::RDS::DBParameterGroup")), fmt.Sprintf(`"max_connections":"%d"`, s.stacks.Config.DBMaxConnections)) {
		t.Error("max_connections is not pinned in the parameter group")
	}
	all := js(s.templates["App"])
	for _, m := range AllMetricNames() {
		if !strings.Contains(all, m) {
			t.Errorf("metric %s is used by no alarm or dashboard widget", m)
		}
	}
	if !strings.Contains(all, MetricNamespace) {
		t.Error("EMF namespace unused")
	}
	subs := js(s.ofType("App", "AWS::SNS::Subscription"))
	if !strings.Contains(subs, "ops@example.com") {
		t.Errorf("alarm email not subscribed: %s", subs)
	}
	if len(s.ofType("App", "AWS::CloudWatch::Dashboard")) != 1 {
		t.Error("no dashboard")
	}
}

func TestCdkNagReportsNoUnsuppressedError(t *testing.T) {
	for _, s := range []*synthesized{dev(t), prod(t)} {
		all := []awscdk.Stack{s.stacks.Network.Stack, s.stacks.Data.Stack, s.stacks.App.Stack}
		if s.stacks.DR != nil {
			all = append(all, s.stacks.DR)
		}
		for _, st := range all {
			errs := assertions.Annotations_FromStack(st).FindError(jsii.String("*"), assertions.Match_AnyValue())
			for _, e := range *errs {
				t.Errorf("%s: %s", *st.StackName(), message(e))
			}
			// A nag rule that could not evaluate is a warning; it would hide a finding.
			warns := assertions.Annotations_FromStack(st).FindWarning(jsii.String("*"),
				assertions.Match_StringLikeRegexp(jsii.String("CdkNagValidationFailure")))
			for _, w := range *warns {
				t.Errorf("%s: %s", *st.StackName(), message(w))
			}
		}
	}
}

// message is a synthesis message's construct path and text.
//
//nolint:staticcheck // SA1019: the type moved to @aws-cdk/cloud-assembly-api, which has no Go binding yet.
func message(m *cxapi.SynthesisMessage) string {
	return fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data)
}
