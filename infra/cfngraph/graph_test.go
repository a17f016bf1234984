package cfngraph

import (
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, template string) *Graph {
	t.Helper()
	g, err := Parse([]byte(template))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestEdgesFromEveryKindOfReference(t *testing.T) {
	g := mustParse(t, `{
	  "Parameters": {"P": {"Type": "String"}},
	  "Resources": {
	    "Bucket": {"Type": "AWS::S3::Bucket"},
	    "Role":   {"Type": "AWS::IAM::Role"},
	    "Group":  {"Type": "AWS::CodeDeploy::DeploymentGroup"},
	    "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": "Bucket", "Properties": {
	      "Role": {"Fn::GetAtt": ["Role", "Arn"]},
	      "Env": {"A": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}"},
	              "B": {"Fn::Sub": ["${Local}-${Role.Arn}", {"Local": {"Ref": "P"}}]},
	              "C": {"Fn::GetAtt": "Group.Arn"},
	              "D": {"Fn::Join": ["", [{"Ref": "AWS::Region"}, {"Ref": "P"}]]}}}},
	    "Alias": {"Type": "AWS::Lambda::Alias", "DependsOn": ["Fn"],
	      "UpdatePolicy": {"CodeDeployLambdaAliasUpdate": {"DeploymentGroupName": {"Ref": "Group"}}}},
	    "Wait": {"Type": "AWS::CloudFormation::WaitCondition", "CreationPolicy": {"X": {"Ref": "Fn"}}}
	  }}`)
	want := map[string][]Edge{
		"Bucket": nil, "Role": nil, "Group": nil,
		"Fn": {
			{To: "Bucket", Via: "DependsOn"},
			{To: "Bucket", Via: "Fn::Sub in Properties"},
			{To: "Group", Via: "Fn::GetAtt in Properties"},
			{To: "Role", Via: "Fn::GetAtt in Properties"},
			{To: "Role", Via: "Fn::Sub in Properties"},
		},
		"Alias": {{To: "Fn", Via: "DependsOn"}, {To: "Group", Via: "Ref in UpdatePolicy"}},
		"Wait":  {{To: "Fn", Via: "Ref in CreationPolicy"}},
	}
	if !reflect.DeepEqual(g.Edges, want) {
		t.Errorf("edges:\n got %v\nwant %v", g.Edges, want)
	}
	if c := g.Cycles(); len(c) != 0 {
		t.Errorf("acyclic template reported cycles %v", c)
	}
}

// The shape cfn-lint found in the App stack: the alias' CodeDeploy update
// policy waits for the deployment group, which watches an alarm whose metric
// referenced the API stage, which hangs on the deployment, the method and
// back on the alias.
func TestFindsTheAliasDeploymentGroupCycleAndNamesIt(t *testing.T) {
	g := mustParse(t, `{"Resources": {
	  "Fn":    {"Type": "AWS::Lambda::Function"},
	  "Live":  {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}},
	            "UpdatePolicy": {"CodeDeployLambdaAliasUpdate": {"DeploymentGroupName": {"Ref": "Release"}}}},
	  "Release": {"Type": "AWS::CodeDeploy::DeploymentGroup", "Properties": {
	            "AlarmConfiguration": {"Alarms": [{"Name": {"Ref": "Route5xx"}}]}}},
	  "Route5xx": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [{"MetricStat": {"Metric": {
	            "Dimensions": [{"Name": "Stage", "Value": {"Ref": "Stage"}}]}}}]}},
	  "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"DeploymentId": {"Ref": "Deployment"}}},
	  "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["Method"]},
	  "Method": {"Type": "AWS::ApiGateway::Method", "Properties": {"Integration": {
	            "Uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/functions/${Live}/invocations"}}}},
	  "Other": {"Type": "AWS::SNS::Topic"}
	}}`)
	cycles := g.Cycles()
	want := []string{"Deployment", "Method", "Live", "Release", "Route5xx", "Stage", "Deployment"}
	if len(cycles) != 1 || !reflect.DeepEqual(cycles[0], want) {
		t.Fatalf("cycles %v, want [%v]", cycles, want)
	}
	d := g.Describe(cycles[0])
	for _, part := range []string{"Live -[Ref in UpdatePolicy]-> Release", "Method -[Fn::Sub in Properties]-> Live",
		"Deployment -[DependsOn]-> Method", "Route5xx -[Ref in Properties]-> Stage"} {
		if !strings.Contains(d, part) {
			t.Errorf("description %q lacks %q", d, part)
		}
	}
}

func TestSelfReferenceAndSeparateCycles(t *testing.T) {
	g := mustParse(t, `{"Resources": {
	  "A": {"Type": "X", "DependsOn": "A"},
	  "B": {"Type": "X", "Properties": {"P": {"Fn::GetAtt": "C.Arn"}}},
	  "C": {"Type": "X", "Properties": {"P": {"Ref": "B"}}},
	  "D": {"Type": "X", "Properties": {"P": {"Ref": "B"}}}
	}}`)
	got := g.Cycles()
	want := [][]string{{"A", "A"}, {"B", "C", "B"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cycles %v, want %v", got, want)
	}
}

func TestReferencesOutsideResourcesAreNoEdges(t *testing.T) {
	g := mustParse(t, `{"Resources": {
	  "A": {"Type": "X", "Properties": {"P": {"Fn::Sub": ["${B}${AWS::StackName}", {"B": "b"}]}, "Q": {"Ref": "Missing"}}},
	  "B": {"Type": "X", "Properties": {"P": {"Fn::Sub": "${!A}"}}}
	}}`)
	if len(g.Edges["A"]) != 0 || len(g.Edges["B"]) != 0 {
		t.Errorf("edges %v, want none", g.Edges)
	}
}

func TestBadTemplate(t *testing.T) {
	if _, err := Parse([]byte(`{"Resources": [`)); err == nil {
		t.Error("want an error for broken JSON")
	}
}
