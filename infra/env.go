package infra

// Environment variables infra sets on the functions. Secrets are passed only
// by id (ARN); the function reads them from Secrets Manager at run time.
// Names follow shared/platform/config.go where it has one.
//
// TODO(lead): platform has REDIS_PASSWORD (a plaintext secret in the
// environment, which the issue rules out): infra sets REDIS_AUTH_SECRET_ID
// instead; platform must read the token from there. MYSQL_DSN carries no
// password: with DB_IAM_AUTH=true the MySQL adapter must add an IAM auth token
// (rds/auth BuildAuthToken for the proxy endpoint) as the password.
const (
	EnvStage         = "STAGE"
	EnvCatalogName   = "GATEWAY_FUNCTION" // catalogue name (AWS_LAMBDA_FUNCTION_NAME carries the stage prefix)
	EnvLogLevel      = "LOG_LEVEL"
	EnvSecretsPrefix = "SECRETS_PREFIX"

	// MySQL through RDS Proxy: user@tcp(proxy:3306)/gateway?tls=true... (no password).
	EnvMySQLDSN  = "MYSQL_DSN"
	EnvDBIAMAuth = "DB_IAM_AUTH" // "true": the password is an IAM auth token

	// Redis (ElastiCache, TLS) with the AUTH token from Secrets Manager.
	EnvRedisAddr         = "REDIS_ADDR" // host:port
	EnvRedisTLS          = "REDIS_TLS"
	EnvRedisAuthSecretID = "REDIS_AUTH_SECRET_ID" // #nosec G101 -- the name of a variable holding a secret's ARN, not a credential

	EnvQueueURL = "QUEUE_URL"
	EnvDLQURL   = "DLQ_URL" // health only: it reports the DLQ depth

	EnvRetellKeySecretID  = "RETELL_API_KEY_SECRET_ID" // #nosec G101 -- the name of a variable holding a secret's ARN, not a credential
	EnvCalcomKeySecretID  = "CALCOM_API_KEY_SECRET_ID" // #nosec G101 -- the name of a variable holding a secret's ARN, not a credential
	EnvCalcomHookSecretID = "CALCOM_WEBHOOK_SECRET_ID" // #nosec G101 -- the name of a variable holding a secret's ARN, not a credential
	EnvPIIKeysSecretID    = "PII_KEYS_SECRET_ID"

	EnvSmokeTenant          = "SMOKE_TENANT_ID"         // deploy-check
	EnvSmokeNumber          = "SMOKE_TO_NUMBER"         // deploy-check: the smoke tenant's number
	EnvSnapshotBeforeApply  = "SNAPSHOT_BEFORE_MIGRATE" // migrate: "true" in prod
	EnvDBInstanceIdentifier = "DB_INSTANCE_ID"          // migrate: for the pre-migration snapshot
	EnvSnapshotPrefix       = "SNAPSHOT_ID_PREFIX"      // migrate: snapshot name = prefix + UTC timestamp
)
