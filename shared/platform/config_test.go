package platform

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/catalog"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil {
		t.Fatalf("empty environment must load: %v", err)
	}
	if c.Stage != StageDev || c.CalcomBaseURL != DefaultCalcomBaseURL || c.USDToEUR != 0.92 ||
		c.QueueDegradedDepth != 100 || string(c.InboundFallback) != `{"call_inbound":{}}` ||
		c.LogLevel != slog.LevelInfo || c.Version != "dev" {
		t.Fatalf("defaults wrong: %+v", c)
	}
	if c.RetellAPIKeySecret != SecretRetellAPIKey || c.PIIKeysSecret != SecretPIIKeys {
		t.Fatalf("secret ids: %q %q", c.RetellAPIKeySecret, c.PIIKeysSecret)
	}
	if c.Flags != DefaultFlags(StageDev) {
		t.Fatalf("flags default: %+v", c.Flags)
	}
}

func TestLoadConfigValues(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{
		EnvStage: "PROD", EnvRegion: "eu-central-1", EnvFunctionName: "book-appointment",
		EnvLambdaVersion: "17", EnvMySQLDSN: "app:pw@tcp(db:3306)/gw", EnvRedisAddr: "cache:6379",
		EnvRedisTLS: "true", EnvQueueURL: "https://sqs.eu-central-1.amazonaws.com/1/retry",
		EnvCalcomBaseURL: "https://cal.example.com/", EnvSecretsPrefix: "telefonagent/prod/",
		EnvPIIKeysSecret: "arn:aws:secretsmanager:eu-central-1:1:secret:pii", EnvUSDToEUR: "0.9",
		EnvQueueDegradedDepth: "7", EnvLogLevel: "debug", "FLAG_ALTERNATIVES": "false",
		EnvInboundFallback: `{"call_inbound":{"override_agent_id":"agent_fallback"}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stage != StageProd || !c.RedisTLS || c.CalcomBaseURL != "https://cal.example.com" || c.Version != "17" ||
		c.USDToEUR != 0.9 || c.QueueDegradedDepth != 7 || c.LogLevel != slog.LevelDebug {
		t.Fatalf("values wrong: %+v", c)
	}
	if c.RetellAPIKeySecret != "telefonagent/prod/retell-api-key" || c.PIIKeysSecret != "arn:aws:secretsmanager:eu-central-1:1:secret:pii" {
		t.Fatalf("secret ids: %q %q", c.RetellAPIKeySecret, c.PIIKeysSecret)
	}
	if c.Flags.Alternatives || !c.Flags.SignatureEnforcement || c.Flags.Stage() != StageProd {
		t.Fatalf("flags: %+v", c.Flags)
	}
}

// One error names every bad setting, so a broken deployment is fixed in one go.
func TestLoadConfigListsEveryProblem(t *testing.T) {
	_, err := LoadConfig(envOf(map[string]string{
		EnvStage: "production", EnvRedisTLS: "yes please", EnvUSDToEUR: "-1", EnvQueueDegradedDepth: "many",
		EnvInboundFallback: `[1]`, EnvLogLevel: "loud", EnvCalcomBaseURL: "ftp://x", EnvQueueURL: "not a url",
		EnvAdminToken: "t0ken", "FLAG_METRICS": "maybe", "FLAG_SIGNATURE_ENFORCEMENT": "false",
	}))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConfigError, got %v", err)
	}
	for _, want := range []string{EnvStage, EnvRedisTLS, EnvUSDToEUR, EnvQueueDegradedDepth, EnvInboundFallback,
		EnvLogLevel, EnvCalcomBaseURL, EnvQueueURL, EnvAdminToken, "FLAG_METRICS", FlagSignatureEnforcement} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "t0ken") {
		t.Errorf("error echoes a secret value: %v", err)
	}
}

func TestRequire(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{EnvRedisAddr: "127.0.0.1:6379"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Require(EnvRedisAddr, EnvCalcomBaseURL); err != nil {
		t.Fatalf("set and defaulted settings must pass: %v", err)
	}
	err = c.Require(EnvMySQLDSN, EnvRedisAddr, EnvQueueURL, "NO_SUCH_SETTING")
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	for _, want := range []string{EnvMySQLDSN, EnvQueueURL, "NO_SUCH_SETTING"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %s in %v", want, err)
		}
	}
}

func TestRequireNeedsEveryCatalogueFunction(t *testing.T) {
	full := map[string]string{EnvMySQLDSN: "x", EnvRedisAddr: "x", EnvQueueURL: "http://127.0.0.1:1/q"}
	cfull, err := LoadConfig(envOf(full))
	if err != nil {
		t.Fatal(err)
	}
	empty, _ := LoadConfig(envOf(nil))
	for _, fn := range catalog.All() {
		if err := cfull.RequireNeeds(fn.Needs...); err != nil {
			t.Errorf("%s: complete config refused: %v", fn.Name, err)
		}
		err := empty.RequireNeeds(fn.Needs...)
		if fn.NeedsAny(catalog.NeedMySQL) && (err == nil || !strings.Contains(err.Error(), EnvMySQLDSN)) {
			t.Errorf("%s needs MySQL but empty config passed: %v", fn.Name, err)
		}
		if !fn.NeedsAny(catalog.NeedMySQL, catalog.NeedRedis, catalog.NeedQueue) && err != nil {
			t.Errorf("%s: %v", fn.Name, err)
		}
	}
}

func TestConfigLogValueHidesSecrets(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{EnvMySQLDSN: "app:s3cr3tpw@tcp(db)/gw", EnvRedisPassword: "redispw", EnvAdminToken: "admintok"}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	NewLogger(&buf, slog.LevelInfo).Info("config", slog.Any("config", c))
	for _, secret := range []string{"s3cr3tpw", "redispw", "admintok"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("config log shows %q: %s", secret, buf.String())
		}
	}
	if !strings.Contains(buf.String(), `"mysql_dsn":"set"`) {
		t.Errorf("config log should say the DSN is set: %s", buf.String())
	}
}
