// Package infra is the CDK app of the gateway: three stacks per stage
// (network, data, app), everything per function derived from shared/catalog.
package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Stacks is one stage's set of stacks.
type Stacks struct {
	Config  Config
	Network *Network
	Data    *Data
	App     *AppStack
	// DR is the backup vault stack in cfg.DRRegion (nil when off).
	DR awscdk.Stack
}

// ConfigFromContext reads the Config from the app's CDK context.
func ConfigFromContext(app awscdk.App) (Config, error) {
	return ParseConfig(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
}

// Build adds one stage's stacks to app and applies cdk-nag to all of them.
func Build(app awscdk.App, cfg Config) (*Stacks, error) {
	env := &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)}
	name := func(part string) string { return "Telefonagent-" + string(cfg.Stage) + "-" + part }
	props := func(desc string) *awscdk.StackProps {
		return &awscdk.StackProps{
			Env: env, Description: jsii.String(desc), TerminationProtection: jsii.Bool(cfg.Prod()),
			Tags: &map[string]*string{"project": jsii.String("telefonagent-gateway"), "stage": jsii.String(string(cfg.Stage))},
		}
	}
	// Seed the AZ lookup CDK performs for a stack with an environment, so
	// synth never asks AWS (it must work offline, with no account). The VPC
	// itself takes its AZs from Fn::GetAZs (or the pinned names).
	azs := []any{}
	for _, az := range cfg.AZs {
		azs = append(azs, az)
	}
	if len(azs) == 0 {
		for i := 0; i < cfg.AZCount; i++ {
			azs = append(azs, cfg.Region+string(rune('a'+i)))
		}
	}
	app.Node().SetContext(jsii.String(fmt.Sprintf("availability-zones:account=%s:region=%s", cfg.Account, cfg.Region)), azs)

	s := &Stacks{Config: cfg}
	s.Network = NewNetwork(app, name("Network"), cfg, props("VPC, endpoints, NAT, function security groups"))
	s.Data = NewData(app, name("Data"), cfg, s.Network, props("Secrets, RDS MySQL + Proxy, Redis, backups"))
	if cfg.DRRegion != "" {
		drProps := props("Backup vault in the DR region: copies of the daily DB snapshots")
		drProps.Env = &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.DRRegion)}
		s.DR = NewDR(app, name("DR"), cfg, drProps)
		s.Data.Stack.AddStackDependency(s.DR, jsii.String("the daily backup copies into the DR vault"))
	}
	var err error
	s.App, err = NewAppStack(app, name("App"), cfg, s.Network, s.Data, props("Functions, API + WAF, releases, queue, alarms"))
	if err != nil {
		return nil, err
	}
	ApplyNag(app)
	markLambdaRoleDependency(app)
	return s, nil
}

// FeatureFlags are the CDK feature flags of this app, set in code so the
// tests synthesize exactly what `cdk synth` does (cdk.json keeps only the
// stage defaults).
func FeatureFlags() map[string]any {
	return map[string]any{
		"@aws-cdk/core:checkSecretUsage":                              true,
		"@aws-cdk/core:target-partitions":                             []any{"aws"},
		"@aws-cdk/core:defaultCrossStackReferences":                   "strong",
		"@aws-cdk/core:validateSnapshotRemovalPolicy":                 true,
		"@aws-cdk/aws-lambda:recognizeLayerVersion":                   true,
		"@aws-cdk/aws-lambda:recognizeVersionProps":                   true,
		"@aws-cdk/aws-lambda:codeguruProfilerEnvVarOptOut":            true,
		"@aws-cdk/aws-iam:minimizePolicies":                           true,
		"@aws-cdk/aws-rds:databaseProxyUniqueResourceName":            true,
		"@aws-cdk/aws-codedeploy:removeAlarmsFromDeploymentGroup":     true,
		"@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId": true,
		"@aws-cdk/aws-sqs:dlqUseSameEncryption":                       true,
	}
}

// NewApp is awscdk.NewApp with this app's feature flags plus extra context
// (tests pass the stage here; the CLI passes -c values, which win).
func NewApp(context map[string]any) awscdk.App {
	ctx := FeatureFlags()
	for k, v := range context {
		ctx[k] = v
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
}
