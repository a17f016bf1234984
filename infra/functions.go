package infra

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/telefonagent/gateway/shared/catalog"
)

// AliasName is the alias every event source and route invokes. CodeDeploy
// shifts it from the old version to the new one.
const AliasName = "live"

// FunctionUnit is one catalogued function with everything that is only its
// own: role, log group, function, version, `live` alias.
type FunctionUnit struct {
	Scope       constructs.Construct
	Spec        catalog.Function
	Role        awsiam.Role
	LogGroup    awslogs.LogGroup
	Fn          awslambda.Function
	Alias       awslambda.Alias
	Placeholder bool // built from the placeholder asset, not dist/<name>
	InVPC       bool
}

// functionDeps is what a function may be granted, decided by its Needs.
type functionDeps struct {
	cfg   Config
	net   *Network
	data  *Data
	queue awssqs.Queue
	dlq   awssqs.Queue
}

// reportsQueueDepth: the health function reports retry queue and DLQ depth
// (design §4); nothing else reads queue attributes.
func reportsQueueDepth(f catalog.Function) bool {
	return f.Trigger == catalog.TriggerHTTP && f.NeedsAny(catalog.NeedQueue) && !f.NeedsAny(catalog.NeedRetellKey, catalog.NeedCalcomHook)
}

// physicalName is the Lambda function name: stage prefix + catalogue name.
func physicalName(cfg Config, name string) string { return cfg.Prefix() + "-" + name }

// newFunctionUnit builds one function from the catalogue entry. Grants follow
// the entry's Needs and nothing else.
func newFunctionUnit(scope constructs.Construct, f catalog.Function, deps functionDeps) (*FunctionUnit, error) {
	cfg := deps.cfg
	u := &FunctionUnit{Spec: f}
	u.Scope = constructs.NewConstruct(scope, jsii.String(unitID(f.Name)))
	s := u.Scope

	dir, placeholder, err := AssetDir(cfg, f.Name)
	if err != nil {
		return nil, err
	}
	u.Placeholder = placeholder

	u.LogGroup = awslogs.NewLogGroup(s, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + physicalName(cfg, f.Name)),
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: removal(cfg),
	})
	// An explicit role instead of CDK's default one: the default attaches the
	// AWS-managed basic-execution and VPC-access policies, which allow writing
	// to every log group in the account.
	u.Role = awsiam.NewRole(s, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("execution role of " + f.Name),
	})
	u.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*u.LogGroup.LogGroupArn()),
	}))

	env := map[string]*string{
		EnvStage:         jsii.String(string(cfg.Stage)),
		EnvCatalogName:   jsii.String(f.Name),
		EnvLogLevel:      jsii.String("INFO"),
		EnvSecretsPrefix: jsii.String(cfg.Prefix() + "/"),
	}
	d := deps.data
	var sgs []awsec2.ISecurityGroup
	// Only functions that talk to MySQL or Redis run in the VPC; the others
	// (deploy-check) stay outside and need no ENIs or NAT.
	u.InVPC = f.NeedsAny(catalog.NeedMySQL, catalog.NeedRedis)
	if u.InVPC {
		sgs = append(sgs, deps.net.FunctionsSG)
		if f.NeedsAny(catalog.NeedCalcom) || snapshotsBeforeMigrate(cfg, f) {
			sgs = append(sgs, deps.net.InternetEgressSG)
		}
	}
	if f.NeedsAny(catalog.NeedMySQL) {
		// IAM auth tokens go over the cleartext plugin, hence TLS is required.
		env[EnvMySQLDSN] = awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String(dbAdminUser + "@tcp("), d.Proxy.Endpoint(),
			jsii.String(fmt.Sprintf(":%d)/%s?tls=true&allowCleartextPasswords=true&parseTime=true&loc=UTC", proxyPort, dbName)),
		})
		env[EnvDBIAMAuth] = jsii.String("true")
	}
	if f.NeedsAny(catalog.NeedRedis) {
		env[EnvRedisAddr] = d.RedisAddr()
		env[EnvRedisTLS] = jsii.String("true")
		env[EnvRedisAuthSecretID] = d.RedisAuth.SecretArn()
	}
	if f.NeedsAny(catalog.NeedQueue) {
		env[EnvQueueURL] = deps.queue.QueueUrl()
	}
	if reportsQueueDepth(f) {
		env[EnvDLQURL] = deps.dlq.QueueUrl()
	}
	if f.NeedsAny(catalog.NeedRetellKey) {
		env[EnvRetellKeySecretID] = d.RetellAPIKey.SecretArn()
	}
	if f.NeedsAny(catalog.NeedCalcom) {
		env[EnvCalcomKeySecretID] = d.CalcomAPIKey.SecretArn()
	}
	if f.NeedsAny(catalog.NeedCalcomHook) {
		env[EnvCalcomHookSecretID] = d.CalcomWebhookKey.SecretArn()
	}
	if f.NeedsAny(catalog.NeedPIIKeys) {
		env[EnvPIIKeysSecretID] = d.PIIKeys.SecretArn()
	}
	if f.Trigger == catalog.TriggerCodeDeploy {
		env[EnvSmokeTenant] = jsii.String(cfg.SmokeTenant)
		env[EnvSmokeNumber] = jsii.String(cfg.SmokeNumber)
	}
	if f.Trigger == catalog.TriggerDeployTime {
		env[EnvSnapshotBeforeApply] = jsii.String(strconv.FormatBool(snapshotsBeforeMigrate(cfg, f)))
		env[EnvDBInstanceIdentifier] = jsii.String(d.DBInstanceID)
		env[EnvSnapshotPrefix] = jsii.String(snapshotPrefix(cfg))
	}

	props := &awslambda.FunctionProps{
		FunctionName: jsii.String(physicalName(cfg, f.Name)),
		Description:  jsii.String(f.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(dir), nil),
		MemorySize:   jsii.Number(float64(f.MemoryMB)),
		Timeout:      awscdk.Duration_Millis(jsii.Number(float64(f.Timeout.Milliseconds()))),
		Tracing:      awslambda.Tracing_ACTIVE,
		Role:         u.Role,
		LogGroup:     u.LogGroup,
		Environment:  &env,
	}
	if f.ReservedConcurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(float64(f.ReservedConcurrency))
	}
	if u.InVPC {
		props.Vpc = deps.net.Vpc
		props.VpcSubnets = &awsec2.SubnetSelection{SubnetGroupName: jsii.String(subnetPrivate)}
		props.SecurityGroups = &sgs
		props.AllowPublicSubnet = jsii.Bool(false)
	}
	u.Fn = awslambda.NewFunction(s, jsii.String("Fn"), props)

	if u.InVPC {
		u.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
				"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
			Resources: jsii.Strings("*"),
		}))
	}

	// Secrets: exactly the ones the Needs imply.
	if f.NeedsAny(catalog.NeedRetellKey) {
		d.RetellAPIKey.GrantRead(u.Role, nil)
	}
	if f.NeedsAny(catalog.NeedCalcom) {
		d.CalcomAPIKey.GrantRead(u.Role, nil)
	}
	if f.NeedsAny(catalog.NeedCalcomHook) {
		d.CalcomWebhookKey.GrantRead(u.Role, nil)
	}
	if f.NeedsAny(catalog.NeedPIIKeys) {
		d.PIIKeys.GrantRead(u.Role, nil)
	}
	if f.NeedsAny(catalog.NeedRedis) {
		d.RedisAuth.GrantRead(u.Role, nil)
	}
	if f.NeedsAny(catalog.NeedMySQL) {
		d.Proxy.GrantConnect(u.Role, jsii.String(dbAdminUser))
	}
	if f.NeedsAny(catalog.NeedQueue) {
		deps.queue.GrantSendMessages(u.Role)
	}
	if reportsQueueDepth(f) {
		u.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("sqs:GetQueueAttributes"), Resources: &[]*string{deps.queue.QueueArn(), deps.dlq.QueueArn()},
		}))
	}
	if snapshotsBeforeMigrate(cfg, f) {
		u.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("rds:CreateDBSnapshot", "rds:AddTagsToResource"),
			Resources: jsii.Strings(*d.DB.InstanceArn(), snapshotARN(d, cfg)),
		}))
		u.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("rds:DescribeDBSnapshots"),
			Resources: jsii.Strings(snapshotARN(d, cfg)),
		}))
	}

	u.Alias = awslambda.NewAlias(s, jsii.String("Live"), &awslambda.AliasProps{
		AliasName:   jsii.String(AliasName),
		Version:     u.Fn.CurrentVersion(),
		Description: jsii.String("the version that takes traffic; moved by CodeDeploy"),
	})

	// One IAM5 suppression per role (cdk-nag keeps one entry per rule id).
	star := Suppression{ID: "AwsSolutions-IAM5", Reason: reasonXRay, AppliesTo: []string{"Resource::*"}}
	if u.InVPC {
		star.Reason += " " + reasonENI
	}
	if snapshotsBeforeMigrate(cfg, f) {
		star.Reason += " migrate names its pre-migration snapshots " + snapshotPrefix(cfg) + "<timestamp>; " +
			"the wildcard covers only that prefix of this stage's snapshots."
		star.AppliesTo = append(star.AppliesTo, "Resource::"+snapshotARN(d, cfg))
	}
	suppress(u.Role, true, star)
	return u, nil
}

// snapshotsBeforeMigrate: in prod, migrate takes a manual snapshot first.
func snapshotsBeforeMigrate(cfg Config, f catalog.Function) bool {
	return cfg.Prod() && f.Trigger == catalog.TriggerDeployTime
}

// snapshotPrefix is the name prefix of migrate's manual snapshots.
func snapshotPrefix(cfg Config) string { return cfg.Prefix() + "-pre-migrate-" }

func snapshotARN(d *Data, cfg Config) string {
	return fmt.Sprintf("arn:aws:rds:%s:%s:snapshot:%s*", *d.Stack.Region(), *d.Stack.Account(), snapshotPrefix(cfg))
}

// unitID is a construct id from a catalogue name: check-availability → CheckAvailability.
func unitID(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
