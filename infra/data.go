package infra

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbackup"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

const (
	dbName      = "gateway"
	dbAdminUser = "gateway_admin"
	dbPort      = 3307 // the instance; RDS Proxy listens on 3306
	proxyPort   = 3306
	redisPort   = 6380 // not the default, as cdk-nag asks; TLS is required anyway
)

// Data is the stateful stack: secrets, MySQL (+ proxy, rotation, backups)
// and Redis. It lives apart from the App stack so that redeploying or even
// destroying the functions never touches the data.
type Data struct {
	Stack awscdk.Stack

	RetellAPIKey     awssecretsmanager.Secret
	CalcomAPIKey     awssecretsmanager.Secret
	CalcomWebhookKey awssecretsmanager.Secret
	PIIKeys          awssecretsmanager.Secret
	RedisAuth        awssecretsmanager.Secret
	DB               awsrds.DatabaseInstance
	DBInstanceID     string
	Proxy            awsrds.DatabaseProxy
	Redis            awselasticache.CfnReplicationGroup
	RedisGroupID     string
	RedisNodeIDs     []string
	DBMaxConnections int
}

// NewData builds the data stack in the network's VPC.
func NewData(scope constructs.Construct, id string, cfg Config, net *Network, props *awscdk.StackProps) *Data {
	stack := awscdk.NewStack(scope, jsii.String(id), props)
	d := &Data{Stack: stack, DBMaxConnections: cfg.DBMaxConnections}
	isolated := &awsec2.SubnetSelection{SubnetGroupName: jsii.String(subnetData)}
	private := &awsec2.SubnetSelection{SubnetGroupName: jsii.String(subnetPrivate)}

	// --- Application secrets. Values of third-party keys are set by an
	// operator (README: "Secrets"); CloudFormation only creates the slot with a
	// random placeholder, so no secret is ever in a template or a parameter.
	secret := func(id, name, desc string) awssecretsmanager.Secret {
		s := awssecretsmanager.NewSecret(stack, jsii.String(id), &awssecretsmanager.SecretProps{
			SecretName:  jsii.String(cfg.Prefix() + "/" + name),
			Description: jsii.String(desc),
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true),
			},
			RemovalPolicy: removal(cfg),
		})
		return s
	}
	d.RetellAPIKey = secret("RetellApiKey", "retell-api-key",
		"Retell API key: verifies X-Retell-Signature; deploy-check signs synthetic requests with it")
	d.CalcomAPIKey = secret("CalcomApiKey", "calcom-api-key", "Cal.com API v2 key")
	d.CalcomWebhookKey = secret("CalcomWebhookSecret", "calcom-webhook-secret",
		"Cal.com webhook secret: verifies X-Cal-Signature-256")
	d.PIIKeys = secret("PiiKeys", "pii-keys",
		"PII envelope-encryption and blind-index keys (key ids allow rotation without re-encrypting)")
	for _, s := range []awssecretsmanager.Secret{d.RetellAPIKey, d.CalcomAPIKey, d.CalcomWebhookKey} {
		suppress(s, false, Suppression{ID: "AwsSolutions-SMG4", Reason: "Issued by a third party (Retell/Cal.com): it cannot " +
			"be rotated by a Lambda; it is rotated by the documented manual procedure (README: rotate secrets)."})
	}
	suppress(d.PIIKeys, false, Suppression{ID: "AwsSolutions-SMG4", Reason: "PII keys are rotated by adding a new key id " +
		"to the key set (old ciphertexts stay readable); an automatic rotation would replace keys and lose data."})

	// --- MySQL 8 (8.4 LTS: 8.0 left RDS standard support in 2026).
	engine := awsrds.DatabaseInstanceEngine_Mysql(&awsrds.MySqlInstanceEngineProps{
		Version: awsrds.MysqlEngineVersion_VER_8_4_7(),
	})
	params := awsrds.NewParameterGroup(stack, jsii.String("DbParams"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String("gateway: TLS only, utf8mb4, fixed max_connections (the alarm threshold derives from it)"),
		Parameters: &map[string]*string{
			"require_secure_transport": jsii.String("ON"),
			"max_connections":          jsii.String(strconv.Itoa(cfg.DBMaxConnections)),
			"character_set_server":     jsii.String("utf8mb4"),
			"collation_server":         jsii.String("utf8mb4_unicode_ci"),
			"slow_query_log":           jsii.String("1"),
			"long_query_time":          jsii.String("0.5"),
		},
	})
	dbSG := awsec2.NewSecurityGroup(stack, jsii.String("DbSG"), &awsec2.SecurityGroupProps{
		Vpc: net.Vpc, AllowAllOutbound: jsii.Bool(false), Description: jsii.String("RDS MySQL: only from RDS Proxy and the rotation function"),
	})
	proxySG := awsec2.NewSecurityGroup(stack, jsii.String("ProxySG"), &awsec2.SecurityGroupProps{
		Vpc: net.Vpc, AllowAllOutbound: jsii.Bool(false), Description: jsii.String("RDS Proxy: MySQL from the functions"),
	})
	d.DBInstanceID = cfg.Prefix() + "-mysql"
	// Log groups made here (not by RDS' log-retention custom resource) so the
	// retention is plain CloudFormation.
	var logGroups []constructs.IDependable
	for _, l := range []string{"error", "slowquery"} {
		logGroups = append(logGroups, awslogs.NewLogGroup(stack, jsii.String("DbLog-"+l), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String(fmt.Sprintf("/aws/rds/instance/%s/%s", d.DBInstanceID, l)),
			Retention:     retention(cfg.LogRetentionDays),
			RemovalPolicy: removal(cfg),
		}))
	}
	dbRemoval := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		dbRemoval = awscdk.RemovalPolicy_SNAPSHOT
	}
	d.DB = awsrds.NewDatabaseInstance(stack, jsii.String("Db"), &awsrds.DatabaseInstanceProps{
		Engine:             engine,
		InstanceIdentifier: jsii.String(d.DBInstanceID),
		InstanceType:       awsec2.NewInstanceType(jsii.String(cfg.DBInstanceClass)),
		Vpc:                net.Vpc,
		VpcSubnets:         isolated,
		SecurityGroups:     &[]awsec2.ISecurityGroup{dbSG},
		Port:               jsii.Number(dbPort),
		Credentials: awsrds.Credentials_FromGeneratedSecret(jsii.String(dbAdminUser), &awsrds.CredentialsBaseOptions{
			SecretName: jsii.String(cfg.Prefix() + "/db-admin"),
		}),
		DatabaseName:        jsii.String(dbName),
		ParameterGroup:      params,
		StorageEncrypted:    jsii.Bool(true),
		StorageType:         awsrds.StorageType_GP3,
		AllocatedStorage:    jsii.Number(float64(cfg.DBAllocatedGB)),
		MaxAllocatedStorage: jsii.Number(float64(cfg.DBAllocatedGB * 5)),
		MultiAz:             jsii.Bool(cfg.Prod()),
		// Automated backups + binlogs give point-in-time restore to any second
		// of the last 30 days, at most ~5 minutes behind (RPO).
		BackupRetention:            awscdk.Duration_Days(jsii.Number(30)),
		PreferredBackupWindow:      jsii.String("01:00-01:30"),
		DeleteAutomatedBackups:     jsii.Bool(false),
		DeletionProtection:         jsii.Bool(cfg.Prod()),
		RemovalPolicy:              dbRemoval,
		CopyTagsToSnapshot:         jsii.Bool(true),
		IamAuthentication:          jsii.Bool(true),
		EnablePerformanceInsights:  jsii.Bool(true),
		CloudwatchLogsExports:      jsii.Strings("error", "slowquery"), // never "general": it would log PII
		AutoMinorVersionUpgrade:    jsii.Bool(true),
		PreferredMaintenanceWindow: jsii.String("sun:02:00-sun:03:00"),
	})
	d.DB.Node().AddDependency(logGroups...)
	if !cfg.Prod() {
		suppress(d.DB, false,
			Suppression{ID: "AwsSolutions-RDS3", Reason: "dev runs single-AZ to halve its cost; prod is Multi-AZ (stage setting)."},
			Suppression{ID: "AwsSolutions-RDS10", Reason: "dev is disposable; prod has deletion protection and snapshot-on-delete."})
	}

	// Credential rotation every 30 days; functions never see the password
	// (they use IAM auth to the proxy), and the proxy re-reads the secret.
	d.DB.AddRotationSingleUser(&awsrds.RotationSingleUserOptions{
		AutomaticallyAfter: awscdk.Duration_Days(jsii.Number(30)),
		Endpoint:           net.SecretsEndpoint,
		VpcSubnets:         private,
	})

	d.Proxy = d.DB.AddProxy(jsii.String("Proxy"), &awsrds.DatabaseProxyOptions{
		Vpc:                   net.Vpc,
		VpcSubnets:            isolated,
		SecurityGroups:        &[]awsec2.ISecurityGroup{proxySG},
		Secrets:               &[]awssecretsmanager.ISecret{d.DB.Secret()},
		DbProxyName:           jsii.String(cfg.Prefix() + "-proxy"),
		IamAuth:               jsii.Bool(true),
		RequireTLS:            jsii.Bool(true),
		DebugLogging:          jsii.Bool(false), // it would log SQL text with personal data
		IdleClientTimeout:     awscdk.Duration_Minutes(jsii.Number(30)),
		MaxConnectionsPercent: jsii.Number(90), // leaves room for the rotation function and a human
	})
	d.DB.Connections().AllowDefaultPortFrom(proxySG, jsii.String("RDS Proxy to MySQL"))
	proxySG.Connections().AllowFrom(net.FunctionsSG, awsec2.Port_Tcp(jsii.Number(proxyPort)), jsii.String("functions to RDS Proxy"))

	// --- AWS Backup: daily snapshots kept 35 days (prod also monthly for a
	// year), independent of the instance's own automated backups.
	vault := awsbackup.NewBackupVault(stack, jsii.String("Vault"), &awsbackup.BackupVaultProps{
		BackupVaultName: jsii.String(cfg.Prefix() + "-vault"),
		RemovalPolicy:   removal(cfg),
	})
	daily := &awsbackup.BackupPlanRuleProps{
		RuleName:           jsii.String("daily"),
		BackupVault:        vault,
		ScheduleExpression: awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: jsii.String("2"), Minute: jsii.String("30")}),
		DeleteAfter:        awscdk.Duration_Days(jsii.Number(35)),
	}
	if cfg.DRRegion != "" {
		// Each daily snapshot is copied to the DR region's vault (DR stack):
		// the restore point if this region is lost (README: disaster recovery).
		drVault := awsbackup.BackupVault_FromBackupVaultArn(stack, jsii.String("DrVault"), jsii.String(drVaultARN(cfg)))
		daily.CopyActions = &[]*awsbackup.BackupPlanCopyActionProps{{
			DestinationBackupVault: drVault,
			DeleteAfter:            awscdk.Duration_Days(jsii.Number(35)),
		}}
	}
	rules := []awsbackup.BackupPlanRule{awsbackup.NewBackupPlanRule(daily)}
	if cfg.Prod() {
		rules = append(rules, awsbackup.NewBackupPlanRule(&awsbackup.BackupPlanRuleProps{
			RuleName:           jsii.String("monthly"),
			BackupVault:        vault,
			ScheduleExpression: awsevents.Schedule_Cron(&awsevents.CronOptions{Day: jsii.String("1"), Hour: jsii.String("3"), Minute: jsii.String("0")}),
			DeleteAfter:        awscdk.Duration_Days(jsii.Number(365)),
		}))
	}
	plan := awsbackup.NewBackupPlan(stack, jsii.String("BackupPlan"), &awsbackup.BackupPlanProps{
		BackupPlanName:  jsii.String(cfg.Prefix() + "-db"),
		BackupVault:     vault,
		BackupPlanRules: &rules,
	})
	sel := plan.AddSelection(jsii.String("Db"), &awsbackup.BackupSelectionOptions{
		Resources: &[]awsbackup.BackupResource{awsbackup.BackupResource_FromRdsDatabaseInstance(d.DB)},
	})
	suppress(sel, true, Suppression{ID: "AwsSolutions-IAM4", Reason: "AWS Backup's service role needs the AWS-managed " +
		"AWSBackupServiceRolePolicyForBackup/Restores policies; AWS documents no narrower alternative.",
		AppliesTo: []string{"/^Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyFor(Backup|Restores)$/"}})

	// --- Redis (ElastiCache replication group): TLS required, encrypted at
	// rest, AUTH token generated into Secrets Manager.
	d.RedisAuth = awssecretsmanager.NewSecret(stack, jsii.String("RedisAuth"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String(cfg.Prefix() + "/redis-auth"),
		Description: jsii.String("ElastiCache Redis AUTH token"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: removal(cfg),
	})
	suppress(d.RedisAuth, false, Suppression{ID: "AwsSolutions-SMG4", Reason: "The Redis AUTH token is rotated by the " +
		"documented two-step procedure (ROTATE then SET strategy on the replication group), which a generic rotation Lambda cannot do."})
	redisSG := awsec2.NewSecurityGroup(stack, jsii.String("RedisSG"), &awsec2.SecurityGroupProps{
		Vpc: net.Vpc, AllowAllOutbound: jsii.Bool(false), Description: jsii.String("Redis: TLS from the functions"),
	})
	redisSG.Connections().AllowFrom(net.FunctionsSG, awsec2.Port_Tcp(jsii.Number(redisPort)), jsii.String("functions to Redis"))
	subnets := net.Vpc.SelectSubnets(isolated)
	subnetIDs := []any{}
	for _, id := range *subnets.SubnetIds {
		subnetIDs = append(subnetIDs, id)
	}
	subnetGroup := awselasticache.NewCfnSubnetGroup(stack, jsii.String("RedisSubnets"), &awselasticache.CfnSubnetGroupProps{
		Description:          jsii.String("isolated data subnets"),
		SubnetIds:            &subnetIDs,
		CacheSubnetGroupName: jsii.String(cfg.Prefix() + "-redis"),
	})
	nodes := 1
	if cfg.Prod() {
		nodes = 2
	}
	d.RedisGroupID = cfg.Prefix() + "-redis"
	for i := 1; i <= nodes; i++ {
		d.RedisNodeIDs = append(d.RedisNodeIDs, fmt.Sprintf("%s-%03d", d.RedisGroupID, i))
	}
	d.Redis = awselasticache.NewCfnReplicationGroup(stack, jsii.String("Redis"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupId:          jsii.String(d.RedisGroupID),
		ReplicationGroupDescription: jsii.String("gateway cache, idempotency and slot locks"),
		Engine:                      jsii.String("redis"),
		EngineVersion:               jsii.String("7.1"),
		CacheNodeType:               jsii.String(cfg.RedisNodeType),
		NumCacheClusters:            jsii.Number(float64(nodes)),
		AutomaticFailoverEnabled:    jsii.Bool(cfg.Prod()),
		MultiAzEnabled:              jsii.Bool(cfg.Prod()),
		TransitEncryptionEnabled:    jsii.Bool(true),
		TransitEncryptionMode:       jsii.String("required"),
		AtRestEncryptionEnabled:     jsii.Bool(true),
		// A dynamic reference: CloudFormation resolves it at deploy time; the
		// value is never in the template.
		AuthToken:                  d.RedisAuth.SecretValue().UnsafeUnwrap(),
		Port:                       jsii.Number(redisPort),
		CacheSubnetGroupName:       subnetGroup.Ref(),
		SecurityGroupIds:           &[]*string{redisSG.SecurityGroupId()},
		SnapshotRetentionLimit:     jsii.Number(snapshotDays(cfg)),
		SnapshotWindow:             jsii.String("00:00-01:00"),
		PreferredMaintenanceWindow: jsii.String("sun:03:30-sun:04:30"),
		AutoMinorVersionUpgrade:    jsii.Bool(true),
	})
	if !cfg.Prod() {
		suppress(d.Redis, false, Suppression{ID: "AwsSolutions-AEC4", Reason: "dev runs one Redis node; prod has a replica with automatic failover (stage setting)."})
	}
	return d
}

// NewDR is the stack in the DR region: the vault the daily DB snapshots are
// copied to. It holds no running resources (nothing to pay but storage).
func NewDR(scope constructs.Construct, id string, cfg Config, props *awscdk.StackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), props)
	awsbackup.NewBackupVault(stack, jsii.String("Vault"), &awsbackup.BackupVaultProps{
		BackupVaultName: jsii.String(drVaultName(cfg)),
		RemovalPolicy:   removal(cfg),
	})
	return stack
}

func drVaultName(cfg Config) string { return cfg.Prefix() + "-dr-vault" }

func drVaultARN(cfg Config) string {
	return fmt.Sprintf("arn:aws:backup:%s:%s:backup-vault:%s", cfg.DRRegion, cfg.Account, drVaultName(cfg))
}

func snapshotDays(cfg Config) float64 {
	if cfg.Prod() {
		return 7
	}
	return 1
}

// RedisAddr is host:port of the primary endpoint.
func (d *Data) RedisAddr() *string {
	return awscdk.Fn_Join(jsii.String(":"), &[]*string{d.Redis.AttrPrimaryEndPointAddress(), jsii.String(strconv.Itoa(redisPort))})
}
