package infra

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/infra/cfngraph"
	"github.com/telefonagent/gateway/shared/catalog"
)

// stages are the synthesized stages every template-wide check covers.
func stages(t *testing.T) map[string]*synthesized {
	return map[string]*synthesized{"dev": dev(t), "prod": prod(t)}
}

// CloudFormation refuses a template whose resources depend on each other in a
// circle; the CDK assertions cannot see that, the graph of the template can.
func TestNoDependencyCycleInAnyTemplate(t *testing.T) {
	for stage, s := range stages(t) {
		for stack, raw := range s.raw {
			g, err := cfngraph.Parse(raw)
			if err != nil {
				t.Fatalf("%s %s: %v", stage, stack, err)
			}
			if len(g.Edges) == 0 {
				t.Fatalf("%s %s: no resources parsed", stage, stack)
			}
			for _, c := range g.Cycles() {
				t.Errorf("%s %s: dependency cycle %s", stage, stack, g.Describe(c))
			}
		}
	}
}

// cfn-lint reads the templates as CloudFormation does (resource schemas,
// dependency cycles, intrinsic functions). Findings we accept are listed with
// their reason in the repository's .cfnlintrc; anything else fails, warnings
// included.
func TestCfnLintFindsNothingInDevAndProd(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatal("cfn-lint is not installed: pip install cfn-lint (version 1.51 or later)")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(root, ".cfnlintrc")
	if _, err := os.Stat(rc); err != nil {
		t.Fatalf("the accepted findings live in %s: %v", rc, err)
	}
	dir := t.TempDir()
	var files []string
	for stage, s := range stages(t) {
		for stack, raw := range s.raw {
			f := filepath.Join(dir, stage+"-"+stack+".template.json")
			if err := os.WriteFile(f, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	if len(files) != 7 {
		t.Fatalf("%d templates, want 3 stacks x 2 stages + prod's DR vault", len(files))
	}
	cmd := exec.Command(bin, append([]string{"--config-file", rc, "--format", "parseable",
		"--non-zero-exit-code", "informational"}, files...)...)
	cmd.Dir = dir
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Run()
	var findings []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			findings = append(findings, strings.TrimPrefix(line, dir+string(filepath.Separator)))
		}
	}
	var exit *exec.ExitError
	switch {
	case err == nil && len(findings) == 0:
	case err == nil || errors.As(err, &exit):
		t.Errorf("cfn-lint: %d findings (fix them, or list them in .cfnlintrc with a reason):\n%s\n%s",
			len(findings), strings.Join(findings, "\n"), stderr.String())
	default:
		t.Fatalf("cfn-lint did not run: %v\n%s", err, stderr.String())
	}
}

// A function's 5xx rollback alarm watches exactly its routes, named by
// literal dimensions (API name, stage name, method, path): a Ref of the stage
// there would close the cycle alias -> deployment group -> alarm -> stage ->
// deployment -> method -> alias.
func TestRoute5xxAlarmsNameTheirRoutesLiterally(t *testing.T) {
	for stage, s := range stages(t) {
		cfg := s.stacks.Config
		for _, f := range catalog.HTTP() {
			u := s.stacks.App.Units[f.Name]
			var al *resource
			for _, r := range s.ofType("App", "AWS::CloudWatch::Alarm") {
				if r.Properties["AlarmName"] == physicalName(cfg, f.Name)+"-5xx" {
					al = &r
				}
			}
			if al == nil || u == nil {
				t.Fatalf("%s: no 5xx alarm for %s", stage, f.Name)
			}
			want := map[string]bool{}
			for _, r := range f.Routes {
				want[r.Method+" "+r.Path] = true
			}
			got := map[string]int{}
			for _, m := range al.Properties["Metrics"].([]any) {
				stat, ok := m.(map[string]any)["MetricStat"].(map[string]any)
				if !ok {
					continue
				}
				metric := stat["Metric"].(map[string]any)
				dims := map[string]any{}
				for _, d := range metric["Dimensions"].([]any) {
					dims[d.(map[string]any)["Name"].(string)] = d.(map[string]any)["Value"]
				}
				if metric["Namespace"] != "AWS/ApiGateway" || dims["ApiName"] != apiName(cfg) || dims["Stage"] != stage {
					t.Errorf("%s %s: metric %s", stage, f.Name, js(metric))
				}
				method, _ := dims["Method"].(string)
				path, _ := dims["Resource"].(string)
				got[method+" "+path]++
			}
			for route := range want {
				if got[route] != 2 { // 5XXError and Count
					t.Errorf("%s %s: route %s has %d metrics in the 5xx alarm, want 2", stage, f.Name, route, got[route])
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s %s: alarm covers %v, want %v", stage, f.Name, got, want)
			}
		}
		for _, api := range s.ofType("App", "AWS::ApiGateway::RestApi") {
			if api.Properties["Name"] != apiName(cfg) {
				t.Errorf("%s: API name %v, want %s", stage, api.Properties["Name"], apiName(cfg))
			}
		}
		for _, st := range s.ofType("App", "AWS::ApiGateway::Stage") {
			if st.Properties["StageName"] != apiStageName(cfg) {
				t.Errorf("%s: stage name %v, want %s", stage, st.Properties["StageName"], apiStageName(cfg))
			}
		}
	}
}

// The DB admin secret is rotated every 30 days by the hosted single-user
// rotation, and RDS Proxy authenticates with that same secret (so it picks up
// the rotated password; the functions use IAM auth to the proxy).
func TestDBCredentialRotationKeepsTheProxyOnTheRotatedSecret(t *testing.T) {
	for stage, s := range stages(t) {
		attachments := s.ofType("Data", "AWS::SecretsManager::SecretTargetAttachment")
		schedules := s.ofType("Data", "AWS::SecretsManager::RotationSchedule")
		proxies := s.ofType("Data", "AWS::RDS::DBProxy")
		apps := s.ofType("Data", "AWS::Serverless::Application")
		if len(attachments) != 1 || len(schedules) != 1 || len(proxies) != 1 || len(apps) != 1 {
			t.Fatalf("%s: %d attachments, %d rotation schedules, %d proxies, %d rotation apps; want 1 each",
				stage, len(attachments), len(schedules), len(proxies), len(apps))
		}
		var attachment, app string
		for id := range attachments {
			attachment = id
		}
		for id := range apps {
			app = id
		}
		for _, rs := range schedules {
			p := rs.Properties
			if !refersTo(p["SecretId"], attachment) || js(p["RotationRules"]) != `{"ScheduleExpression":"rate(30 days)"}` ||
				!strings.Contains(js(p["RotationLambdaARN"]), `["`+app+`","Outputs.RotationLambdaARN"]`) {
				t.Errorf("%s: rotation schedule %s", stage, js(p))
			}
		}
		for _, px := range proxies {
			if !refersTo(px.Properties["Auth"], attachment) {
				t.Errorf("%s: proxy auth %s does not use the rotated secret %s", stage, js(px.Properties["Auth"]), attachment)
			}
		}
		for _, a := range apps {
			p := js(a.Properties["Parameters"])
			if !strings.Contains(p, "secretsmanager") || !strings.Contains(p, "vpcSubnetIds") {
				t.Errorf("%s: rotation function not in the VPC with the Secrets Manager endpoint: %s", stage, p)
			}
		}
	}
}

// Prod survives a lost AZ (Multi-AZ database and Redis, a NAT gateway per AZ)
// and a lost region (daily snapshots copied to the DR region's vault).
func TestProdSurvivesALostAZAndKeepsCopiesInTheDRRegion(t *testing.T) {
	p, d := prod(t), dev(t)
	if n := len(p.ofType("Network", "AWS::EC2::NatGateway")); n != 3 {
		t.Errorf("prod: %d NAT gateways, want one per AZ (3)", n)
	}
	if n := len(d.ofType("Network", "AWS::EC2::NatGateway")); n != 1 {
		t.Errorf("dev: %d NAT gateways, want 1", n)
	}
	for _, st := range []*synthesized{p, d} {
		for _, sub := range st.ofType("Network", "AWS::EC2::Subnet") {
			if !strings.Contains(js(sub.Properties["AvailabilityZone"]), "Fn::GetAZs") {
				t.Errorf("%s: subnet AZ %s is not from Fn::GetAZs", st.stacks.Config.Stage, js(sub.Properties["AvailabilityZone"]))
			}
		}
	}
	if d.stacks.DR != nil || len(d.ofType("Data", "AWS::Backup::BackupPlan")) != 1 ||
		strings.Contains(js(d.ofType("Data", "AWS::Backup::BackupPlan")), "CopyActions") {
		t.Error("dev must have no DR copy")
	}
	if p.stacks.DR == nil || *p.stacks.DR.Region() != "eu-west-1" {
		t.Fatal("prod: no DR stack in eu-west-1")
	}
	vaults := p.ofType("DR", "AWS::Backup::BackupVault")
	if len(vaults) != 1 {
		t.Fatalf("DR stack: %d vaults", len(vaults))
	}
	for _, v := range vaults {
		if v.Properties["BackupVaultName"] != "telefonagent-prod-dr-vault" || v.DeletionPolicy != "Retain" {
			t.Errorf("DR vault %s (DeletionPolicy %s)", js(v.Properties), v.DeletionPolicy)
		}
	}
	plan := js(p.ofType("Data", "AWS::Backup::BackupPlan"))
	if !strings.Contains(plan, `"DestinationBackupVaultArn":"arn:aws:backup:eu-west-1:123456789012:backup-vault:telefonagent-prod-dr-vault"`) {
		t.Errorf("prod backup plan does not copy to the DR vault: %s", plan)
	}
}
