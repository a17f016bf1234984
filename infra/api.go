package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/telefonagent/gateway/shared/catalog"
)

// RouteMethod is one catalogued route as deployed.
type RouteMethod struct {
	Function string
	Route    catalog.Route
	Method   awsapigateway.Method
}

// newAPI builds the REST API with one method per catalogued route, each
// integrated with its function's `live` alias.
// apiName and apiStageName are literals: the route alarms name them in their
// metric dimensions instead of referencing the API's resources.
func apiName(cfg Config) string      { return cfg.Prefix() + "-api" }
func apiStageName(cfg Config) string { return string(cfg.Stage) }

func (a *AppStack) newAPI(cfg Config) {
	stack := a.Stack
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: removal(cfg),
	})
	a.API = awsapigateway.NewRestApi(stack, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName:                 jsii.String(apiName(cfg)),
		Description:                 jsii.String("Retell and Cal.com webhooks, Retell custom functions, health, admin"),
		EndpointTypes:               &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		CloudWatchRole:              jsii.Bool(true),
		CloudWatchRoleRemovalPolicy: awscdk.RemovalPolicy_RETAIN, // the account-level setting outlives one stage
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(apiStageName(cfg)),
			TracingEnabled:       jsii.Bool(true),
			ThrottlingRateLimit:  jsii.Number(cfg.ApiRateLimit),
			ThrottlingBurstLimit: jsii.Number(float64(cfg.ApiBurstLimit)),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller: jsii.Bool(true), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true), Protocol: jsii.Bool(true),
				RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true), ResponseLength: jsii.Bool(true),
				Status: jsii.Bool(true), User: jsii.Bool(true),
			}),
			LoggingLevel: awsapigateway.MethodLoggingLevel_ERROR,
			// Never: it would write request bodies (names, phone numbers) to logs.
			DataTraceEnabled: jsii.Bool(false),
			// Per-method metrics: each function's 5xx alarm rolls back only its own canary.
			MetricsEnabled: jsii.Bool(true),
		},
	})
	suppress(a.API, true, Suppression{ID: "AwsSolutions-IAM4", Reason: "API Gateway's account-level CloudWatch role uses the " +
		"AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to enable execution logs.",
		AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}})

	// Parameters are validated by API Gateway; bodies by the handlers (strict
	// JSON decoding, size limit): they must see the raw bytes to verify the
	// HMAC signature, so no model may transform them.
	validator := a.API.AddRequestValidator(jsii.String("Validator"), &awsapigateway.RequestValidatorOptions{
		ValidateRequestParameters: jsii.Bool(true), ValidateRequestBody: jsii.Bool(true),
	})

	for _, f := range catalog.HTTP() {
		u := a.Units[f.Name]
		timeout := f.Timeout + 1e9
		if timeout > 29e9 {
			timeout = 29e9
		}
		integration := awsapigateway.NewLambdaIntegration(u.Alias, &awsapigateway.LambdaIntegrationOptions{
			Proxy:           jsii.Bool(true),
			AllowTestInvoke: jsii.Bool(false),
			Timeout:         awscdk.Duration_Millis(jsii.Number(float64(timeout.Milliseconds()))),
		})
		for _, r := range f.Routes {
			res := a.API.Root().ResourceForPath(jsii.String(r.Path))
			opts := &awsapigateway.MethodOptions{RequestValidator: validator, AuthorizationType: awsapigateway.AuthorizationType_NONE}
			if r.Admin {
				opts.AuthorizationType = awsapigateway.AuthorizationType_IAM
			}
			m := res.AddMethod(jsii.String(r.Method), integration, opts)
			if r.Admin {
				suppress(m, false, Suppression{ID: "AwsSolutions-COG4", Reason: "Admin routes use IAM (SigV4) " +
					"authorisation: operators are IAM principals; there are no end-user accounts, so no Cognito user pool."})
			} else {
				suppress(m, false,
					Suppression{ID: "AwsSolutions-APIG4", Reason: authReason(f)},
					Suppression{ID: "AwsSolutions-COG4", Reason: authReason(f)})
			}
			a.Routes = append(a.Routes, RouteMethod{Function: f.Name, Route: r, Method: m})
		}
	}

	if cfg.Domain != "" {
		a.API.AddDomainName(jsii.String("Domain"), &awsapigateway.DomainNameOptions{
			DomainName:     jsii.String(cfg.Domain),
			Certificate:    awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Cert"), jsii.String(cfg.CertificateARN)),
			EndpointType:   awsapigateway.EndpointType_REGIONAL,
			SecurityPolicy: awsapigateway.SecurityPolicy_TLS_1_2,
		})
	}
	a.newWAF(cfg)
}

// authReason says why a public route has no API Gateway authoriser.
func authReason(f catalog.Function) string {
	switch {
	case f.NeedsAny(catalog.NeedRetellKey):
		return "Called by Retell, which cannot sign with SigV4 or send Cognito tokens: every request is authenticated " +
			"in the function by its X-Retell-Signature (HMAC over the raw body, 5-minute window) and rejected with 401 otherwise."
	case f.NeedsAny(catalog.NeedCalcomHook):
		return "Called by Cal.com webhooks, which cannot sign with SigV4 or send Cognito tokens: every request is " +
			"authenticated in the function by X-Cal-Signature-256 (HMAC-SHA256 over the raw body) and rejected otherwise."
	default:
		return "Public health/liveness probe for uptime checks; returns only dependency up/down, no data; " +
			"WAF rate limiting and stage throttling apply."
	}
}

// WAF rule priorities (also the order they are evaluated in).
const (
	wafPriorityAllowList = 0
	wafPriorityCommon    = 1
	wafPriorityBadInputs = 2
	wafPriorityRate      = 3
)

func (a *AppStack) newWAF(cfg Config) {
	stack := a.Stack
	visibility := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true), SampledRequestsEnabled: jsii.Bool(true),
			MetricName: jsii.String(name),
		}
	}
	managed := func(name string, priority int, overrides []*awswafv2.CfnWebACL_RuleActionOverrideProperty) *awswafv2.CfnWebACL_RuleProperty {
		stmt := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{VendorName: jsii.String("AWS"), Name: jsii.String(name)}
		if len(overrides) > 0 {
			stmt.RuleActionOverrides = &overrides
		}
		return &awswafv2.CfnWebACL_RuleProperty{
			Name:             jsii.String(name),
			Priority:         jsii.Number(float64(priority)),
			OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
			Statement:        &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: stmt},
			VisibilityConfig: visibility(name),
		}
	}
	rules := []any{
		// Retell's call_analyzed events carry the transcript and exceed the
		// common rule set's 8 KB body limit: count that rule instead of
		// blocking; API Gateway's 10 MB limit and the handlers' own body
		// limit still apply.
		managed("AWSManagedRulesCommonRuleSet", wafPriorityCommon, []*awswafv2.CfnWebACL_RuleActionOverrideProperty{{
			Name:        jsii.String("SizeRestrictions_BODY"),
			ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]any{}},
		}}),
		managed("AWSManagedRulesKnownBadInputsRuleSet", wafPriorityBadInputs, nil),
		&awswafv2.CfnWebACL_RuleProperty{
			Name:     jsii.String("RatePerIP"),
			Priority: jsii.Number(wafPriorityRate),
			Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}},
			Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
				Limit: jsii.Number(float64(cfg.WAFRateLimitPer5m)), AggregateKeyType: jsii.String("IP"),
				EvaluationWindowSec: jsii.Number(300),
			}},
			VisibilityConfig: visibility("RatePerIP"),
		},
	}
	if len(cfg.RetellIPAllowList) > 0 {
		addrs := make([]*string, len(cfg.RetellIPAllowList))
		for i, c := range cfg.RetellIPAllowList {
			addrs[i] = jsii.String(c)
		}
		ipset := awswafv2.NewCfnIPSet(stack, jsii.String("RetellIPs"), &awswafv2.CfnIPSetProps{
			Addresses: &addrs, IpAddressVersion: jsii.String("IPV4"), Scope: jsii.String("REGIONAL"),
			Description: jsii.String("Retell's documented source addresses"),
		})
		// The stage name precedes the path on the execute-api host, a custom
		// domain has none: "contains /functions/" covers both.
		rules = append(rules, &awswafv2.CfnWebACL_RuleProperty{
			Name:     jsii.String("FunctionsOnlyFromRetell"),
			Priority: jsii.Number(wafPriorityAllowList),
			Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}},
			Statement: &awswafv2.CfnWebACL_StatementProperty{AndStatement: &awswafv2.CfnWebACL_AndStatementProperty{
				Statements: &[]any{
					&awswafv2.CfnWebACL_StatementProperty{ByteMatchStatement: &awswafv2.CfnWebACL_ByteMatchStatementProperty{
						FieldToMatch:         &awswafv2.CfnWebACL_FieldToMatchProperty{UriPath: map[string]any{}},
						PositionalConstraint: jsii.String("CONTAINS"),
						SearchString:         jsii.String("/functions/"),
						TextTransformations: &[]any{&awswafv2.CfnWebACL_TextTransformationProperty{
							Priority: jsii.Number(0), Type: jsii.String("LOWERCASE")}},
					}},
					&awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{
						Statement: &awswafv2.CfnWebACL_StatementProperty{IpSetReferenceStatement: &awswafv2.CfnWebACL_IPSetReferenceStatementProperty{
							Arn: ipset.AttrArn(),
						}},
					}},
				},
			}},
			VisibilityConfig: visibility("FunctionsOnlyFromRetell"),
		})
	}
	a.WebACL = awswafv2.NewCfnWebACL(stack, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Name:             jsii.String(cfg.Prefix() + "-api"),
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		VisibilityConfig: visibility(cfg.Prefix() + "-api"),
		Rules:            &rules,
	})
	awswafv2.NewCfnWebACLAssociation(stack, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: a.API.DeploymentStage().StageArn(),
		WebAclArn:   a.WebACL.AttrArn(),
	})
	_ = fmt.Sprint
}
