package infra

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DummyAccount is used when no account is given, so that `cdk synth` works
// offline on a fresh machine. Deploys pass the real one with -c account=...
const DummyAccount = "123456789012"

// Stage is a deployment stage; one stage is one set of stacks.
type Stage string

const (
	StageDev  Stage = "dev"
	StageProd Stage = "prod"
)

// Config is everything that differs between stages or deployments. It is
// read from CDK context (-c key=value or cdk.json) by ConfigFromContext.
type Config struct {
	Stage   Stage
	Account string
	Region  string
	// AZCount is how many availability zones the VPC spans (2 dev, 3 prod).
	// Unless AZs pins them by name (context azs), the template takes them
	// from Fn::GetAZs at deploy time, so it fits any account and region.
	AZCount int
	AZs     []string
	// NatGateways: one per AZ in prod (losing an AZ must not cut the
	// functions off Cal.com), one in dev.
	NatGateways int
	// DRRegion, when set, gets a backup vault (stack Telefonagent-<stage>-DR)
	// to which AWS Backup copies every daily DB snapshot: the restore point
	// when the whole region is lost. Default eu-west-1 in prod (eu-central-1
	// if the stage itself runs in eu-west-1), off in dev; "off" disables.
	DRRegion string

	// Domain, when set, gets a custom domain on the API with the ACM
	// certificate CertificateARN (both or neither).
	Domain         string
	CertificateARN string

	AlarmEmail string

	// DeploymentConfig names the CodeDeploy config of the traffic-serving
	// aliases: CANARY_10PERCENT_5MINUTES in prod, ALL_AT_ONCE in dev.
	DeploymentConfig string

	// RetellIPAllowList, when not empty, makes the WAF block /functions/*
	// requests from any other address. Off by default.
	RetellIPAllowList []string

	// RequireBuiltAssets makes the app fail when dist/<name>/bootstrap is
	// missing instead of using a placeholder (set by make deploy and CI deploy).
	RequireBuiltAssets bool
	// DistDir holds dist/<name>/bootstrap; default: <repo>/dist.
	DistDir string

	// SmokeTenant is the dedicated tenant deploy-check uses for synthetic calls.
	SmokeTenant string
	// SmokeNumber is the dialled number (E.164) of the smoke-test tenant
	// (scripts/tenant/smoke.yaml): deploy-check's requests go there.
	SmokeNumber string

	// Sizing and limits.
	DBInstanceClass    string // e.g. t4g.medium
	DBMaxConnections   int    // set in the parameter group so the alarm threshold is exact
	DBAllocatedGB      int
	RedisNodeType      string
	ApiRateLimit       float64 // stage throttling, requests per second
	ApiBurstLimit      int
	WAFRateLimitPer5m  int // per source IP
	LogRetentionDays   int
	AlarmInCallP95Ms   int
	AlarmBookingFailPc float64
}

// Prod reports whether this is the production stage.
func (c Config) Prod() bool { return c.Stage == StageProd }

// Prefix is the physical-name prefix of this stage's resources.
func (c Config) Prefix() string { return "telefonagent-" + string(c.Stage) }

// deploymentConfigs are the names DeploymentConfig may take.
var deploymentConfigs = map[string]bool{
	"ALL_AT_ONCE": true, "CANARY_10PERCENT_5MINUTES": true, "CANARY_10PERCENT_10MINUTES": true,
	"CANARY_10PERCENT_15MINUTES": true, "CANARY_10PERCENT_30MINUTES": true,
	"LINEAR_10PERCENT_EVERY_1MINUTE": true, "LINEAR_10PERCENT_EVERY_2MINUTES": true,
	"LINEAR_10PERCENT_EVERY_3MINUTES": true, "LINEAR_10PERCENT_EVERY_10MINUTES": true,
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	cidrRE    = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$`)
)

// ParseConfig builds a Config from a context getter (nil or "" = unset).
// It applies the stage defaults and validates everything, so a typo in a
// -c flag fails the synth instead of deploying something unexpected.
func ParseConfig(get func(key string) any) (Config, error) {
	str := func(key, def string) string {
		v := get(key)
		if v == nil {
			return def
		}
		s := strings.TrimSpace(fmt.Sprint(v))
		if s == "" {
			return def
		}
		return s
	}
	c := Config{Stage: Stage(str("stage", "dev"))}
	if c.Stage != StageDev && c.Stage != StageProd {
		return c, fmt.Errorf("context stage=%q: want dev or prod", c.Stage)
	}
	c.Account = str("account", DummyAccount)
	if !accountRE.MatchString(c.Account) {
		return c, fmt.Errorf("context account=%q: want 12 digits", c.Account)
	}
	c.Region = str("region", "eu-central-1")
	if !regionRE.MatchString(c.Region) {
		return c, fmt.Errorf("context region=%q is not a region name", c.Region)
	}
	c.AZCount = 2
	if c.Prod() {
		c.AZCount = 3
	}
	if azs := str("azs", ""); azs != "" {
		c.AZs = splitList(azs)
		c.AZCount = len(c.AZs)
	}
	c.NatGateways = 1
	if c.Prod() {
		c.NatGateways = c.AZCount
	}
	drDef := "off"
	if c.Prod() {
		drDef = "eu-west-1"
		if c.Region == drDef {
			drDef = "eu-central-1"
		}
	}
	if c.DRRegion = str("drRegion", drDef); c.DRRegion == "off" {
		c.DRRegion = ""
	}
	if c.DRRegion != "" && (!regionRE.MatchString(c.DRRegion) || c.DRRegion == c.Region) {
		return c, fmt.Errorf("context drRegion=%q: want another region's name, or off", c.DRRegion)
	}
	c.Domain = str("domain", "")
	c.CertificateARN = str("certificateArn", "")
	if (c.Domain == "") != (c.CertificateARN == "") {
		return c, fmt.Errorf("context domain and certificateArn go together")
	}
	c.AlarmEmail = str("alarmEmail", "")
	if c.AlarmEmail != "" && !strings.Contains(c.AlarmEmail, "@") {
		return c, fmt.Errorf("context alarmEmail=%q is not an address", c.AlarmEmail)
	}
	def := "ALL_AT_ONCE"
	if c.Prod() {
		def = "CANARY_10PERCENT_5MINUTES"
	}
	c.DeploymentConfig = strings.ToUpper(str("deploymentConfig", def))
	if !deploymentConfigs[c.DeploymentConfig] {
		return c, fmt.Errorf("context deploymentConfig=%q is not a CodeDeploy Lambda config", c.DeploymentConfig)
	}
	allow, err := listValue(get("retellIpAllowList"))
	if err != nil {
		return c, fmt.Errorf("context retellIpAllowList: %w", err)
	}
	for _, cidr := range allow {
		if !strings.Contains(cidr, "/") {
			cidr += "/32"
		}
		if !cidrRE.MatchString(cidr) {
			return c, fmt.Errorf("context retellIpAllowList: %q is not an IPv4 CIDR", cidr)
		}
		c.RetellIPAllowList = append(c.RetellIPAllowList, cidr)
	}
	c.RequireBuiltAssets, err = boolValue(str("requireBuiltAssets", "false"))
	if err != nil {
		return c, fmt.Errorf("context requireBuiltAssets: %w", err)
	}
	c.DistDir = str("distDir", "")
	c.SmokeTenant = str("smokeTenant", "smoke-test")
	c.SmokeNumber = str("smokeNumber", "+4930000099")

	if c.Prod() {
		c.DBInstanceClass, c.DBMaxConnections, c.DBAllocatedGB = "r7g.large", 1000, 100
		c.RedisNodeType = "cache.r7g.large"
		c.ApiRateLimit, c.ApiBurstLimit = 200, 400
		c.WAFRateLimitPer5m = 3000
		c.LogRetentionDays = 90
	} else {
		c.DBInstanceClass, c.DBMaxConnections, c.DBAllocatedGB = "t4g.medium", 300, 20
		c.RedisNodeType = "cache.t4g.small"
		c.ApiRateLimit, c.ApiBurstLimit = 50, 100
		c.WAFRateLimitPer5m = 1000
		c.LogRetentionDays = 14
	}
	c.DBInstanceClass = str("dbInstanceClass", c.DBInstanceClass)
	c.RedisNodeType = str("redisNodeType", c.RedisNodeType)
	if n := str("wafRateLimit", ""); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 10 {
			return c, fmt.Errorf("context wafRateLimit=%q: want an integer >= 10", n)
		}
		c.WAFRateLimitPer5m = v
	}
	c.AlarmInCallP95Ms = 1000
	c.AlarmBookingFailPc = 10
	return c, nil
}

// listValue accepts a JSON list (from cdk.json) or a comma-separated string
// (from -c key=a,b).
func listValue(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, strings.TrimSpace(fmt.Sprint(e)))
		}
		return out, nil
	case string:
		s := strings.TrimSpace(t)
		if strings.HasPrefix(s, "[") {
			var out []string
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				return nil, err
			}
			return out, nil
		}
		return splitList(s), nil
	default:
		return nil, fmt.Errorf("unexpected %T", v)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func boolValue(s string) (bool, error) { return strconv.ParseBool(s) }
