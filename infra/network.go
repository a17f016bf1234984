package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Subnet group names.
const (
	subnetPublic  = "ingress" // only the NAT gateway lives here
	subnetPrivate = "app"     // Lambdas; egress only through the one NAT
	subnetData    = "data"    // RDS, RDS Proxy, Redis; no route out at all
)

// vpcCIDR is the VPC's address range (a literal, so rules can name it).
const vpcCIDR = "10.40.0.0/16"

// Network is the VPC and the security groups the other stacks attach to.
type Network struct {
	Stack awscdk.Stack
	Vpc   awsec2.Vpc
	// FunctionsSG is on every function that runs in the VPC. Its egress is
	// closed except: HTTPS to the VPC (the interface endpoints) and what the
	// Data stack opens towards RDS Proxy and Redis.
	FunctionsSG awsec2.SecurityGroup
	// InternetEgressSG adds HTTPS to the internet (through the NAT) and is
	// attached only to functions whose catalogue Needs include Cal.com.
	InternetEgressSG awsec2.SecurityGroup
	// SecretsEndpoint is the interface endpoint of Secrets Manager (the DB
	// rotation function uses it).
	SecretsEndpoint awsec2.InterfaceVpcEndpoint
}

// NewNetwork builds the network stack.
func NewNetwork(scope constructs.Construct, id string, cfg Config, props *awscdk.StackProps) *Network {
	stack := awscdk.NewStack(scope, jsii.String(id), props)
	n := &Network{Stack: stack}

	// AZs from Fn::GetAZs (resolved by CloudFormation in the deploying
	// account) unless the context pins them by name.
	azs := make([]*string, cfg.AZCount)
	for i := range azs {
		if len(cfg.AZs) > 0 {
			azs[i] = jsii.String(cfg.AZs[i])
		} else {
			azs[i] = awscdk.Fn_Select(jsii.Number(float64(i)), awscdk.Fn_GetAzs(nil))
		}
	}
	n.Vpc = awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String(vpcCIDR)),
		AvailabilityZones: &azs,
		// The only way out of the VPC, for Cal.com (and the RDS API for
		// migrate's pre-migration snapshot). Prod: one per AZ, so a lost AZ
		// leaves the others their egress (~35 USD/month each); dev: one.
		NatGateways:       jsii.Number(float64(cfg.NatGateways)),
		NatGatewaySubnets: &awsec2.SubnetSelection{SubnetGroupName: jsii.String(subnetPublic)},
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String(subnetPublic), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(26), MapPublicIpOnLaunch: jsii.Bool(false)},
			{Name: jsii.String(subnetPrivate), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(22)},
			{Name: jsii.String(subnetData), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24)},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(false), // avoids a custom resource; nothing uses the default SG
	})

	flowLogs := awslogs.NewLogGroup(stack, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: removal(cfg),
	})
	n.Vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
		TrafficType: awsec2.FlowLogTrafficType_REJECT,
	})

	// Interface endpoints so functions reach AWS APIs without the NAT.
	private := &awsec2.SubnetSelection{SubnetGroupName: jsii.String(subnetPrivate)}
	endpoint := func(id string, svc awsec2.InterfaceVpcEndpointAwsService) awsec2.InterfaceVpcEndpoint {
		ep := n.Vpc.AddInterfaceEndpoint(jsii.String(id), &awsec2.InterfaceVpcEndpointOptions{
			Service: svc, Subnets: private, PrivateDnsEnabled: jsii.Bool(true),
			// HTTPS from inside the VPC only (the literal CIDR lets cdk-nag check it).
			Open: jsii.Bool(false),
		})
		ep.Connections().AllowDefaultPortFrom(awsec2.Peer_Ipv4(jsii.String(vpcCIDR)), jsii.String("HTTPS from the VPC"))
		return ep
	}
	n.SecretsEndpoint = endpoint("SecretsManagerEndpoint", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER())
	endpoint("SqsEndpoint", awsec2.InterfaceVpcEndpointAwsService_SQS())
	endpoint("LogsEndpoint", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS())

	n.FunctionsSG = awsec2.NewSecurityGroup(stack, jsii.String("FunctionsSG"), &awsec2.SecurityGroupProps{
		Vpc: n.Vpc, AllowAllOutbound: jsii.Bool(false),
		Description: jsii.String("Lambda functions: HTTPS to VPC endpoints, MySQL to RDS Proxy, TLS to Redis"),
	})
	n.FunctionsSG.AddEgressRule(awsec2.Peer_Ipv4(jsii.String(vpcCIDR)), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to the interface endpoints"), nil)

	n.InternetEgressSG = awsec2.NewSecurityGroup(stack, jsii.String("InternetEgressSG"), &awsec2.SecurityGroupProps{
		Vpc: n.Vpc, AllowAllOutbound: jsii.Bool(false),
		Description: jsii.String("Functions that call Cal.com: HTTPS to the internet through the NAT gateway"),
	})
	n.InternetEgressSG.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to Cal.com (and AWS APIs without an endpoint) via NAT"), nil)
	return n
}

// retention maps days to the nearest CloudWatch Logs retention.
func retention(days int) awslogs.RetentionDays {
	switch {
	case days <= 7:
		return awslogs.RetentionDays_ONE_WEEK
	case days <= 14:
		return awslogs.RetentionDays_TWO_WEEKS
	case days <= 30:
		return awslogs.RetentionDays_ONE_MONTH
	case days <= 90:
		return awslogs.RetentionDays_THREE_MONTHS
	default:
		return awslogs.RetentionDays_ONE_YEAR
	}
}

// removal keeps stateful resources in prod and cleans up dev.
func removal(cfg Config) awscdk.RemovalPolicy {
	if cfg.Prod() {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}
