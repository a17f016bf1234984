package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/triggers"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/telefonagent/gateway/shared/catalog"
)

// QueueVisibilityFactor: SQS visibility timeout ≥ 6 × the consumer's timeout
// (AWS' guidance, so a batch is not redelivered while still being retried).
const QueueVisibilityFactor = 6

// AppStack is the stateless stack: functions, aliases, deployment groups,
// API + WAF, queue, schedules, alarms and dashboard.
type AppStack struct {
	Stack  awscdk.Stack
	Queue  awssqs.Queue
	DLQ    awssqs.Queue
	Topic  awssns.Topic
	API    awsapigateway.RestApi
	WebACL awswafv2.CfnWebACL
	// Units in catalogue order, and by name.
	Order   []string
	Units   map[string]*FunctionUnit
	Groups  map[string]awscodedeploy.LambdaDeploymentGroup
	Routes  []RouteMethod
	Migrate triggers.Trigger
	// RollbackAlarms are the alarms each deployment group watches.
	RollbackAlarms map[string][]awscloudwatch.Alarm
	Dashboard      awscloudwatch.Dashboard
}

// NewAppStack builds the stateless stack on top of network and data.
func NewAppStack(scope constructs.Construct, id string, cfg Config, net *Network, data *Data, props *awscdk.StackProps) (*AppStack, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), props)
	a := &AppStack{Stack: stack, Units: map[string]*FunctionUnit{}, Groups: map[string]awscodedeploy.LambdaDeploymentGroup{},
		RollbackAlarms: map[string][]awscloudwatch.Alarm{}}

	a.newQueues(cfg)
	a.newTopic(cfg)

	deps := functionDeps{cfg: cfg, net: net, data: data, queue: a.Queue, dlq: a.DLQ}
	var placeholders []string
	for _, f := range catalog.All() {
		u, err := newFunctionUnit(stack, f, deps)
		if err != nil {
			return nil, err
		}
		a.Units[f.Name] = u
		a.Order = append(a.Order, f.Name)
		if u.Placeholder {
			placeholders = append(placeholders, f.Name)
		}
	}
	if len(placeholders) > 0 {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("telefonagent:placeholder-assets"), jsii.String(fmt.Sprintf(
			"dist/<name>/bootstrap missing for %v: using a placeholder that fails every invocation; run make build before deploying", placeholders)), nil)
	}

	a.newAPI(cfg)
	a.newEventSources(cfg)
	a.newDeployment(cfg)
	a.newAlarms(cfg, data)
	a.newDashboard(cfg, data)
	return a, nil
}

func (a *AppStack) newQueues(cfg Config) {
	var workerTimeout float64
	for _, f := range catalog.All() {
		if f.Trigger == catalog.TriggerSQS && f.Timeout.Seconds() > workerTimeout {
			workerTimeout = f.Timeout.Seconds()
		}
	}
	a.DLQ = awssqs.NewQueue(a.Stack, jsii.String("RetryDLQ"), &awssqs.QueueProps{
		QueueName:       jsii.String(cfg.Prefix() + "-retry-dlq"),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RemovalPolicy:   removal(cfg),
	})
	suppress(a.DLQ, false, Suppression{ID: "AwsSolutions-SQS3", Reason: "This is the dead-letter queue of the retry queue; " +
		"its messages are inspected and redriven by hand (scripts), an alarm fires on the first one."})
	a.Queue = awssqs.NewQueue(a.Stack, jsii.String("RetryQueue"), &awssqs.QueueProps{
		QueueName:         jsii.String(cfg.Prefix() + "-retry"),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(QueueVisibilityFactor * workerTimeout)),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: a.DLQ, MaxReceiveCount: jsii.Number(5)},
	})
}

func (a *AppStack) newTopic(cfg Config) {
	// SNS SSE with a customer key: CloudWatch may only publish to an
	// encrypted topic when the key policy lets it use the key.
	key := awskms.NewKey(a.Stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		EnableKeyRotation: jsii.Bool(true),
		Description:       jsii.String("SSE for the alarm topic"),
		RemovalPolicy:     removal(cfg),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
	}), nil)
	a.Topic = awssns.NewTopic(a.Stack, jsii.String("Alarms"), &awssns.TopicProps{
		TopicName:   jsii.String(cfg.Prefix() + "-alarms"),
		DisplayName: jsii.String("Telefonagent " + string(cfg.Stage) + " alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if cfg.AlarmEmail != "" {
		a.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
}

// newEventSources connects the SQS- and schedule-triggered functions, always
// to their `live` alias.
func (a *AppStack) newEventSources(cfg Config) {
	for _, name := range a.Order {
		u := a.Units[name]
		switch u.Spec.Trigger {
		case catalog.TriggerSQS:
			props := &awslambdaeventsources.SqsEventSourceProps{
				BatchSize:               jsii.Number(10),
				MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(1)),
				ReportBatchItemFailures: jsii.Bool(true),
			}
			if u.Spec.ReservedConcurrency >= 2 {
				// Pollers beyond the reserved concurrency would only be throttled.
				props.MaxConcurrency = jsii.Number(float64(u.Spec.ReservedConcurrency))
			}
			u.Alias.AddEventSource(awslambdaeventsources.NewSqsEventSource(a.Queue, props))
		case catalog.TriggerSchedule:
			awsevents.NewRule(a.Stack, jsii.String(unitID(name)+"Schedule"), &awsevents.RuleProps{
				RuleName:    jsii.String(physicalName(cfg, name)),
				Description: jsii.String("runs " + name + " on " + u.Spec.Schedule),
				Schedule:    awsevents.Schedule_Expression(jsii.String(u.Spec.Schedule)),
				Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(u.Alias, &awseventstargets.LambdaFunctionProps{
					RetryAttempts: jsii.Number(2),
					MaxEventAge:   awscdk.Duration_Hours(jsii.Number(2)),
				})},
			})
		}
	}
}

// serving reports whether a function takes traffic through its alias (and
// so is released by canary). migrate is invoked by the CDK trigger on its new
// version, deploy-check by CodeDeploy by name: canarying them means nothing.
func serving(f catalog.Function) bool {
	return f.Trigger != catalog.TriggerDeployTime && f.Trigger != catalog.TriggerCodeDeploy
}

// DeploymentConfigFor is the CodeDeploy config name a function's group uses.
func DeploymentConfigFor(cfg Config, f catalog.Function) string {
	if serving(f) {
		return cfg.DeploymentConfig
	}
	return "ALL_AT_ONCE"
}

func lambdaDeploymentConfig(name string) awscodedeploy.ILambdaDeploymentConfig {
	switch name {
	case "CANARY_10PERCENT_5MINUTES":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_5MINUTES()
	case "CANARY_10PERCENT_10MINUTES":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_10MINUTES()
	case "CANARY_10PERCENT_15MINUTES":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_15MINUTES()
	case "CANARY_10PERCENT_30MINUTES":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_30MINUTES()
	case "LINEAR_10PERCENT_EVERY_1MINUTE":
		return awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_1MINUTE()
	case "LINEAR_10PERCENT_EVERY_2MINUTES":
		return awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_2MINUTES()
	case "LINEAR_10PERCENT_EVERY_3MINUTES":
		return awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_3MINUTES()
	case "LINEAR_10PERCENT_EVERY_10MINUTES":
		return awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_10MINUTES()
	default:
		return awscodedeploy.LambdaDeploymentConfig_ALL_AT_ONCE()
	}
}

// newDeployment wires the release path: one CodeDeploy application, a
// deployment group per alias with rollback alarms and the deploy-check
// pre-traffic hook, and the migrate trigger that runs before any function
// (or alias) of the stack is updated.
func (a *AppStack) newDeployment(cfg Config) {
	app := awscodedeploy.NewLambdaApplication(a.Stack, jsii.String("Releases"), &awscodedeploy.LambdaApplicationProps{
		ApplicationName: jsii.String(cfg.Prefix()),
	})
	var hook, migrate *FunctionUnit
	for _, u := range a.Units {
		switch u.Spec.Trigger {
		case catalog.TriggerCodeDeploy:
			hook = u
		case catalog.TriggerDeployTime:
			migrate = u
		}
	}

	for _, name := range a.Order {
		u := a.Units[name]
		alarms := a.rollbackAlarms(cfg, u)
		a.RollbackAlarms[name] = alarms
		refs := make([]interfacesawscloudwatch.IAlarmRef, len(alarms))
		for i, al := range alarms {
			refs[i] = al
		}
		props := &awscodedeploy.LambdaDeploymentGroupProps{
			Application:         app,
			Alias:               u.Alias,
			DeploymentGroupName: jsii.String(name),
			DeploymentConfig:    lambdaDeploymentConfig(DeploymentConfigFor(cfg, u.Spec)),
			Alarms:              &refs,
			AutoRollback: &awscodedeploy.AutoRollbackConfig{
				FailedDeployment: jsii.Bool(true), DeploymentInAlarm: jsii.Bool(true), StoppedDeployment: jsii.Bool(true),
			},
		}
		if hook != nil && serving(u.Spec) {
			props.PreHook = hook.Fn
		}
		g := awscodedeploy.NewLambdaDeploymentGroup(u.Scope, jsii.String("Release"), props)
		suppress(g, true, Suppression{ID: "AwsSolutions-IAM4", Reason: "CodeDeploy's service role for Lambda " +
			"deployments uses the AWS-managed AWSCodeDeployRoleForLambdaLimited policy (alias updates and hook invokes only).",
			AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"}},
			Suppression{ID: "AwsSolutions-IAM5", Reason: "CodeDeploy invokes the deploy-check hook; CDK grants it " +
				"lambda:InvokeFunction on <deploy-check ARN>:*, i.e. that one function's versions and aliases.",
				AppliesTo: []string{"/^Resource::<DeployCheckFn[0-9A-F]{8}\\.Arn>:\\*$/"}})
		a.Groups[name] = g
	}

	// deploy-check invokes the new version of the function being deployed
	// (it reads which one from the deployment) and reports to CodeDeploy.
	if hook != nil {
		var fnArns, groupArns []*string
		for _, name := range a.Order {
			u := a.Units[name]
			if !serving(u.Spec) {
				continue
			}
			fnArns = append(fnArns, jsii.String(*u.Fn.FunctionArn()+":*"))
			groupArns = append(groupArns, a.Groups[name].DeploymentGroupArn())
		}
		hook.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("lambda:InvokeFunction"), Resources: &fnArns,
		}))
		hook.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("codedeploy:GetDeployment"), Resources: &groupArns,
		}))
		suppress(hook.Role, true, Suppression{ID: "AwsSolutions-IAM5", Reason: reasonXRay + " deploy-check invokes the new " +
			"version of each serving function: <function ARN>:* covers that function's versions, nothing else.",
			AppliesTo: []string{"Resource::*", "/^Resource::<.*Fn[0-9A-F]{8}\\.Arn>:\\*$/"}})
	}

	if migrate != nil {
		var before []constructs.Construct
		for _, name := range a.Order {
			if u := a.Units[name]; u != migrate {
				before = append(before, u.Scope)
			}
		}
		a.Migrate = triggers.NewTrigger(a.Stack, jsii.String("MigrateBeforeRelease"), &triggers.TriggerProps{
			Handler:                migrate.Fn,
			ExecuteOnHandlerChange: jsii.Bool(true),
			InvocationType:         triggers.InvocationType_REQUEST_RESPONSE,
			Timeout:                awscdk.Duration_Millis(jsii.Number(float64(migrate.Spec.Timeout.Milliseconds()))),
			ExecuteBefore:          &before,
		})
	}
}
