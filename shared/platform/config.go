package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/telefonagent/gateway/shared/catalog"
)

// Stages a deployment can be. Only dev may relax security (see Flags).
const (
	StageDev     = "dev"
	StageStaging = "staging"
	StageProd    = "prod"
)

// Environment variable names. They are the contract between infra/ (which
// sets them per function), scripts/dev and LoadConfig; nothing else reads
// the environment.
const (
	EnvStage               = "STAGE"
	EnvRegion              = "AWS_REGION"
	EnvFunctionName        = "AWS_LAMBDA_FUNCTION_NAME"
	EnvVersion             = "VERSION"
	EnvLambdaVersion       = "AWS_LAMBDA_FUNCTION_VERSION"
	EnvMySQLDSN            = "MYSQL_DSN"
	EnvRedisAddr           = "REDIS_ADDR"
	EnvRedisPassword       = "REDIS_PASSWORD"
	EnvRedisTLS            = "REDIS_TLS"
	EnvQueueURL            = "QUEUE_URL"
	EnvDLQURL              = "DLQ_URL"
	EnvCalcomBaseURL       = "CALCOM_BASE_URL"
	EnvSecretsPrefix       = "SECRETS_PREFIX"
	EnvRetellAPIKeySecret  = "RETELL_API_KEY_SECRET_ID"
	EnvCalcomWebhookSecret = "CALCOM_WEBHOOK_SECRET_ID"
	EnvPIIKeysSecret       = "PII_KEYS_SECRET_ID"
	EnvCalcomAPIKeySecret  = "CALCOM_API_KEY_SECRET_ID"
	EnvInboundFallback     = "INBOUND_FALLBACK"
	EnvUSDToEUR            = "USD_TO_EUR"
	EnvQueueDegradedDepth  = "QUEUE_DEGRADED_DEPTH"
	EnvAdminToken          = "ADMIN_TOKEN"
	EnvLogLevel            = "LOG_LEVEL"
)

// Logical secret names. The secret ids default to SECRETS_PREFIX + these, so
// a deployment normally sets only the prefix; infra may instead set each
// *_SECRET_ID to an ARN. Locally EnvSecrets maps them to SECRET_RETELL_API_KEY etc.
const (
	SecretRetellAPIKey     = "retell-api-key"
	SecretCalcomWebhook    = "calcom-webhook-secret"
	SecretPIIKeys          = "pii-keys"
	SecretCalcomAPIKey     = "calcom-api-key"
	DefaultCalcomBaseURL   = "https://api.cal.com"
	DefaultInboundFallback = `{"call_inbound":{}}`
)

// Config is every setting a function may read, already parsed. Load it once
// at init with LoadConfig(os.Getenv), then say what the function needs with
// Require or RequireNeeds.
type Config struct {
	Stage        string // dev | staging | prod
	Region       string
	FunctionName string
	Version      string // build/deploy version shown by health and in logs

	MySQLDSN      string
	RedisAddr     string
	RedisPassword string
	RedisTLS      bool
	QueueURL      string
	DLQURL        string
	CalcomBaseURL string

	SecretsPrefix       string
	RetellAPIKeySecret  string // secret id (name or ARN), never the key
	CalcomWebhookSecret string
	PIIKeysSecret       string
	CalcomAPIKeySecret  string

	// InboundFallback is the raw call_inbound answer for a dialled number
	// no tenant owns (a JSON object).
	InboundFallback    json.RawMessage
	USDToEUR           float64 // Retell bills in USD; call cost is stored in EUR
	QueueDegradedDepth int     // health reports degraded above this retry-queue depth
	AdminToken         string  // dev only: the local stand-in for IAM on admin routes
	LogLevel           slog.Level

	Flags Flags
}

// ConfigError lists every problem found, so one deployment attempt shows all
// of them. Problems name settings, never their values (a DSN holds a password).
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "configuration: " + strings.Join(e.Problems, "; ")
}

// LoadConfig reads, defaults and validates every setting. It fails with one
// *ConfigError naming all invalid settings. Missing settings are only errors
// once a function asks for them (Require), because functions need different
// subsets.
func LoadConfig(getenv func(string) string) (Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}

	c := Config{
		Stage:         or(strings.ToLower(get(EnvStage)), StageDev),
		Region:        get(EnvRegion),
		FunctionName:  get(EnvFunctionName),
		Version:       or(get(EnvVersion), or(get(EnvLambdaVersion), "dev")),
		MySQLDSN:      get(EnvMySQLDSN),
		RedisAddr:     get(EnvRedisAddr),
		RedisPassword: getenv(EnvRedisPassword), // may legitimately contain spaces
		QueueURL:      get(EnvQueueURL),
		DLQURL:        get(EnvDLQURL),
		CalcomBaseURL: strings.TrimRight(or(get(EnvCalcomBaseURL), DefaultCalcomBaseURL), "/"),
		SecretsPrefix: get(EnvSecretsPrefix),
		AdminToken:    get(EnvAdminToken),
	}
	if !slices.Contains([]string{StageDev, StageStaging, StageProd}, c.Stage) {
		bad("%s must be one of dev, staging, prod (got %q)", EnvStage, truncate(c.Stage, 20))
	}
	c.RetellAPIKeySecret = or(get(EnvRetellAPIKeySecret), c.SecretsPrefix+SecretRetellAPIKey)
	c.CalcomWebhookSecret = or(get(EnvCalcomWebhookSecret), c.SecretsPrefix+SecretCalcomWebhook)
	c.PIIKeysSecret = or(get(EnvPIIKeysSecret), c.SecretsPrefix+SecretPIIKeys)
	c.CalcomAPIKeySecret = or(get(EnvCalcomAPIKeySecret), c.SecretsPrefix+SecretCalcomAPIKey)

	if v := get(EnvRedisTLS); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("%s must be true or false", EnvRedisTLS)
		}
		c.RedisTLS = b
	}
	for _, u := range []struct{ name, value string }{
		{EnvCalcomBaseURL, c.CalcomBaseURL}, {EnvQueueURL, c.QueueURL}, {EnvDLQURL, c.DLQURL},
	} {
		if u.value == "" {
			continue
		}
		if p, err := url.Parse(u.value); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("%s must be an http(s) URL", u.name)
		}
	}
	if c.Stage != StageDev && strings.HasPrefix(c.CalcomBaseURL, "http://") {
		bad("%s must use https outside dev", EnvCalcomBaseURL)
	}

	fallback := or(get(EnvInboundFallback), DefaultInboundFallback)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(fallback), &obj); err != nil || obj == nil {
		bad("%s must be a JSON object", EnvInboundFallback)
	} else if _, ok := obj["call_inbound"]; !ok {
		bad("%s must have a call_inbound member", EnvInboundFallback)
	}
	c.InboundFallback = json.RawMessage(fallback)

	c.USDToEUR = 0.92
	if v := get(EnvUSDToEUR); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 10 {
			bad("%s must be a number between 0 and 10", EnvUSDToEUR)
		} else {
			c.USDToEUR = f
		}
	}
	c.QueueDegradedDepth = 100
	if v := get(EnvQueueDegradedDepth); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bad("%s must be a whole number >= 0", EnvQueueDegradedDepth)
		} else {
			c.QueueDegradedDepth = n
		}
	}
	if c.AdminToken != "" && c.Stage != StageDev {
		bad("%s is for dev only; admin routes use IAM in %s", EnvAdminToken, c.Stage)
	}
	if lvl, err := ParseLevel(get(EnvLogLevel)); err != nil {
		bad("%s must be debug, info, warn or error", EnvLogLevel)
	} else {
		c.LogLevel = lvl
	}

	flags, err := LoadFlags(getenv, c.Stage)
	var ce *ConfigError
	if errors.As(err, &ce) {
		problems = append(problems, ce.Problems...)
	} else if err != nil {
		bad("%v", err)
	}
	c.Flags = flags

	if len(problems) > 0 {
		return c, &ConfigError{Problems: problems}
	}
	return c, nil
}

// settingValues maps each setting name to its effective value, for Require.
func (c Config) settingValues() map[string]string {
	return map[string]string{
		EnvStage: c.Stage, EnvRegion: c.Region, EnvFunctionName: c.FunctionName, EnvVersion: c.Version,
		EnvMySQLDSN: c.MySQLDSN, EnvRedisAddr: c.RedisAddr, EnvRedisPassword: c.RedisPassword,
		EnvQueueURL: c.QueueURL, EnvDLQURL: c.DLQURL, EnvCalcomBaseURL: c.CalcomBaseURL,
		EnvSecretsPrefix: c.SecretsPrefix, EnvRetellAPIKeySecret: c.RetellAPIKeySecret,
		EnvCalcomWebhookSecret: c.CalcomWebhookSecret, EnvPIIKeysSecret: c.PIIKeysSecret,
		EnvCalcomAPIKeySecret: c.CalcomAPIKeySecret, EnvInboundFallback: string(c.InboundFallback),
		EnvAdminToken: c.AdminToken,
	}
}

// Require returns one *ConfigError naming every listed setting that has no
// value (after defaults). Naming a setting Config does not know is reported
// too: that is a wiring bug.
func (c Config) Require(names ...string) error {
	values := c.settingValues()
	var problems []string
	for _, n := range names {
		v, known := values[n]
		switch {
		case !known:
			problems = append(problems, n+" is not a known setting")
		case v == "":
			problems = append(problems, n+" is required")
		}
	}
	if len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	return nil
}

// NeedSettings maps a catalogue need to the settings it requires. Secret ids
// always have defaults; they are listed so a blanked id is still caught.
var NeedSettings = map[catalog.Need][]string{
	catalog.NeedMySQL:      {EnvMySQLDSN},
	catalog.NeedRedis:      {EnvRedisAddr},
	catalog.NeedQueue:      {EnvQueueURL},
	catalog.NeedCalcom:     {EnvCalcomBaseURL, EnvCalcomAPIKeySecret},
	catalog.NeedRetellKey:  {EnvRetellAPIKeySecret},
	catalog.NeedCalcomHook: {EnvCalcomWebhookSecret},
	catalog.NeedPIIKeys:    {EnvPIIKeysSecret},
}

// RequireNeeds is Require for the settings behind a catalogue entry's Needs.
func (c Config) RequireNeeds(needs ...catalog.Need) error {
	var names []string
	for _, n := range needs {
		for _, s := range NeedSettings[n] {
			if !slices.Contains(names, s) {
				names = append(names, s)
			}
		}
	}
	return c.Require(names...)
}

// LogValue lets a Config be logged at start-up without its secrets.
func (c Config) LogValue() slog.Value {
	set := func(v string) string {
		if v == "" {
			return "unset"
		}
		return "set"
	}
	return slog.GroupValue(
		slog.String("stage", c.Stage), slog.String("region", c.Region),
		slog.String("function", c.FunctionName), slog.String("version", c.Version),
		slog.String("mysql_dsn", set(c.MySQLDSN)), slog.String("redis_addr", c.RedisAddr),
		slog.String("redis_password", set(c.RedisPassword)), slog.Bool("redis_tls", c.RedisTLS),
		slog.String("queue_url", c.QueueURL), slog.String("dlq_url", c.DLQURL),
		slog.String("calcom_base_url", c.CalcomBaseURL),
		slog.Float64("usd_to_eur", c.USDToEUR), slog.Int("queue_degraded_depth", c.QueueDegradedDepth),
		slog.String("admin_token", set(c.AdminToken)), slog.String("log_level", c.LogLevel.String()),
	)
}

// ParseLevel parses debug|info|warn|error (empty means info).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("unknown log level")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
