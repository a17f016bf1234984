package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression is one cdk-nag rule we knowingly do not follow, with the reason.
// AppliesTo narrows IAM4/IAM5 findings to exact managed policies or wildcard
// resources; a value starting with "/" is a regular expression.
type Suppression struct {
	ID        string
	Reason    string
	AppliesTo []string
}

// ApplyNag runs cdk-nag's AwsSolutions pack over every stack of the app.
// Findings become error annotations; tests gate on them (FindError) and
// `cdk synth` exits non-zero on any unsuppressed one.
func ApplyNag(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// suppress attaches justified suppressions to a construct (and, if children,
// to everything below it).
func suppress(construct any, children bool, ss ...Suppression) {
	out := nagSuppressions(ss)
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &out, jsii.Bool(children))
}

// nagSuppressions converts our suppressions to cdk-nag's; an AppliesTo
// entry starting with "/" is a regular expression.
func nagSuppressions(ss []Suppression) []*cdknag.NagPackSuppression {
	out := make([]*cdknag.NagPackSuppression, 0, len(ss))
	for _, s := range ss {
		p := &cdknag.NagPackSuppression{Id: jsii.String(s.ID), Reason: jsii.String(s.Reason)}
		if len(s.AppliesTo) > 0 {
			var at []any
			for _, a := range s.AppliesTo {
				if len(a) > 1 && a[0] == '/' {
					at = append(at, &cdknag.RegexAppliesTo{Regex: jsii.String(a)})
				} else {
					at = append(at, jsii.String(a))
				}
			}
			p.AppliesTo = &at
		}
		out = append(out, p)
	}
	return out
}

// Reasons used in more than one place.
const (
	reasonXRay = "X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions; " +
		"AWS documents Resource * for them. Added by CDK for active tracing."
	reasonENI = "Lambda VPC networking: ec2 network-interface actions (Create/Describe/Delete/Assign/Unassign) " +
		"do not support resource-level permissions for Describe*, and Lambda needs them to attach the function to its subnets."
)
