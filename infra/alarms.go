package infra

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/telefonagent/gateway/shared/catalog"
)

// Alarm thresholds that are not stage settings.
const (
	apiServerErrorPc     = 1.0  // API 5xx > 1 %
	signatureFailures5m  = 10.0 // signature failures > 10 in 5 minutes
	dbConnectionsPc      = 0.80 // of max_connections
	redisMemoryPc        = 80.0
	nonInCallDurationPct = 0.8 // p95 duration budget of the other functions: 80 % of their timeout
)

// Periods are functions, not package variables: a jsii call at package init
// would start the jsii kernel before main can fix CDK_OUTDIR.
func minute() awscdk.Duration      { return awscdk.Duration_Minutes(jsii.Number(1)) }
func fiveMinutes() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(5)) }

func (a *AppStack) alarm(scope constructs.Construct, id, name, desc string, metric awscloudwatch.IMetric,
	op awscloudwatch.ComparisonOperator, threshold float64, periods, datapoints int) awscloudwatch.Alarm {
	al := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(name),
		AlarmDescription:   jsii.String(desc),
		Metric:             metric,
		ComparisonOperator: op,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(float64(periods)),
		DatapointsToAlarm:  jsii.Number(float64(datapoints)),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	al.AddAlarmAction(awscloudwatchactions.NewSnsAction(a.Topic))
	al.AddOkAction(awscloudwatchactions.NewSnsAction(a.Topic))
	return al
}

// durationBudgetMs is the p95 duration above which a release rolls back.
func durationBudgetMs(cfg Config, f catalog.Function) float64 {
	if f.InCall {
		return float64(cfg.AlarmInCallP95Ms)
	}
	return float64(f.Timeout.Milliseconds()) * nonInCallDurationPct
}

// rollbackAlarms are the alarms a function's deployment group watches: alias
// errors, alias p95 duration and (HTTP functions) the 5xx rate of its routes.
// They also notify the topic outside deployments.
func (a *AppStack) rollbackAlarms(cfg Config, u *FunctionUnit) []awscloudwatch.Alarm {
	name := physicalName(cfg, u.Spec.Name)
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	out := []awscloudwatch.Alarm{
		a.alarm(u.Scope, "AliasErrors", name+"-errors",
			u.Spec.Name+": errors of the live alias in 2 of the last 3 minutes (rolls back a release)",
			u.Alias.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: minute()}),
			awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 1, 3, 2),
		a.alarm(u.Scope, "AliasP95", name+"-p95",
			fmt.Sprintf("%s: p95 duration of the live alias above %.0f ms (rolls back a release)", u.Spec.Name, durationBudgetMs(cfg, u.Spec)),
			u.Alias.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p95"), Period: minute()}),
			gt, durationBudgetMs(cfg, u.Spec), 3, 2),
	}
	if u.Spec.Trigger == catalog.TriggerHTTP {
		using := map[string]awscloudwatch.IMetric{}
		var errs, counts []string
		for i, r := range a.Routes {
			if r.Function != u.Spec.Name {
				continue
			}
			e, c := fmt.Sprintf("e%d", i), fmt.Sprintf("c%d", i)
			using[e] = a.routeMetric(cfg, r, "5XXError")
			using[c] = a.routeMetric(cfg, r, "Count")
			errs = append(errs, "FILL("+e+",0)")
			counts = append(counts, c)
		}
		expr := fmt.Sprintf("100 * (%s) / (%s)", strings.Join(errs, " + "), strings.Join(counts, " + "))
		out = append(out, a.alarm(u.Scope, "Route5xx", name+"-5xx",
			fmt.Sprintf("%s: more than %.0f %% of its requests answered 5xx (rolls back a release)", u.Spec.Name, apiServerErrorPc),
			awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String(expr), UsingMetrics: &using, Period: minute(), Label: jsii.String("5xx %"),
			}), gt, apiServerErrorPc, 3, 2))
	}
	return out
}

// routeMetric is API Gateway's per-method metric of one route, with every
// dimension a literal. Method.MetricServerError(stage) would put a Ref of the
// stage into the Stage dimension: the alarm would then depend on the stage,
// the stage on the deployment, the deployment on the method, the method on
// the alias, and the alias (through its CodeDeploy UpdatePolicy) on the
// deployment group that watches this alarm — a cycle CloudFormation refuses.
func (a *AppStack) routeMetric(cfg Config, r RouteMethod, name string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String("AWS/ApiGateway"),
		MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{
			"ApiName":  jsii.String(apiName(cfg)),
			"Stage":    jsii.String(apiStageName(cfg)),
			"Method":   jsii.String(r.Route.Method),
			"Resource": jsii.String(r.Route.Path),
		},
		Statistic: jsii.String("Sum"),
		Period:    minute(),
	})
}

// emf is a custom metric the functions emit (names from metricnames.go).
func emf(name, stat string, period awscdk.Duration, dims map[string]string) awscloudwatch.Metric {
	var dm *map[string]*string
	if len(dims) > 0 {
		m := map[string]*string{}
		for k, v := range dims {
			m[k] = jsii.String(v)
		}
		dm = &m
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(MetricNamespace), MetricName: jsii.String(name),
		Statistic: jsii.String(stat), Period: period, DimensionsMap: dm,
	})
}

// newAlarms builds the operational alarms of design §9 (all notify the topic).
func (a *AppStack) newAlarms(cfg Config, data *Data) {
	s := constructs.NewConstruct(a.Stack, jsii.String("OpsAlarms"))
	p := cfg.Prefix()
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD

	a.alarm(s, "Api5xx", p+"-api-5xx", "API: more than 1 % of requests answered 5xx over 5 minutes",
		awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("100 * FILL(e,0) / c"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"e": a.API.MetricServerError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: fiveMinutes()}),
				"c": a.API.MetricCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: fiveMinutes()}),
			},
			Period: fiveMinutes(), Label: jsii.String("5xx %"),
		}), gt, apiServerErrorPc, 1, 1)

	for _, name := range a.Order {
		u := a.Units[name]
		if u.Spec.InCall {
			a.alarm(s, unitID(name)+"InCallP95", physicalName(cfg, name)+"-incall-p95",
				fmt.Sprintf("%s: handler p95 latency above %d ms for 3 of 5 minutes (the caller hears silence)", name, cfg.AlarmInCallP95Ms),
				emf(MetricLatency, "p95", minute(), map[string]string{DimFunction: MetricFunctionValue(cfg, name)}),
				gt, float64(cfg.AlarmInCallP95Ms), 5, 3)
		}
		a.alarm(s, unitID(name)+"Throttles", physicalName(cfg, name)+"-throttles",
			name+": invocations throttled (reserved or account concurrency exhausted)",
			u.Alias.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: fiveMinutes()}),
			gt, 0, 1, 1)
	}

	// Signature failures of every function that verifies a signature, summed
	// (an alarm's math may use at most 10 metrics: beyond that, one per function).
	var sigFns []string
	for _, name := range a.Order {
		f := a.Units[name].Spec
		if serving(f) && f.NeedsAny(catalog.NeedRetellKey, catalog.NeedCalcomHook) {
			sigFns = append(sigFns, name)
		}
	}
	sigMetric := func(fns []string) awscloudwatch.IMetric {
		using := map[string]awscloudwatch.IMetric{}
		var ids []string
		for i, name := range fns {
			id := fmt.Sprintf("s%d", i)
			using[id] = emf(MetricSignatureFailures, "Sum", fiveMinutes(), map[string]string{DimFunction: MetricFunctionValue(cfg, name)})
			ids = append(ids, "FILL("+id+",0)")
		}
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(strings.Join(ids, " + ")), UsingMetrics: &using, Period: fiveMinutes(),
			Label: jsii.String("signature failures"),
		})
	}
	if len(sigFns) <= 10 {
		a.alarm(s, "SignatureFailures", p+"-signature-failures",
			"More than 10 requests with a bad or stale signature in 5 minutes (probing, or a rotated key not yet deployed)",
			sigMetric(sigFns), gt, signatureFailures5m, 1, 1)
	} else {
		for _, name := range sigFns {
			a.alarm(s, unitID(name)+"SignatureFailures", physicalName(cfg, name)+"-signature-failures",
				name+": more than 10 requests with a bad or stale signature in 5 minutes",
				sigMetric([]string{name}), gt, signatureFailures5m, 1, 1)
		}
	}

	// Booking failure rate: failed / all outcomes of the booking functions.
	using := map[string]awscloudwatch.IMetric{}
	var failed, all []string
	for i, fn := range BookingFunctions {
		for j, outcome := range BookingOutcomes {
			id := fmt.Sprintf("b%d_%d", i, j)
			using[id] = emf(MetricBookingOutcome, "Sum", fiveMinutes(), map[string]string{
				DimFunction: MetricFunctionValue(cfg, fn), DimOutcome: outcome})
			all = append(all, "FILL("+id+",0)")
			if BookingFailedOutcomes[outcome] {
				failed = append(failed, "FILL("+id+",0)")
			}
		}
	}
	a.alarm(s, "BookingFailureRate", p+"-booking-failure-rate",
		fmt.Sprintf("More than %.0f %% of booking attempts failed in 2 of 3 five-minute periods", cfg.AlarmBookingFailPc),
		awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression:   jsii.String(fmt.Sprintf("100 * (%s) / (%s)", strings.Join(failed, " + "), strings.Join(all, " + "))),
			UsingMetrics: &using, Period: fiveMinutes(), Label: jsii.String("booking failures %"),
		}), gt, cfg.AlarmBookingFailPc, 3, 2)

	a.alarm(s, "DLQNotEmpty", p+"-dlq-not-empty", "The retry DLQ holds messages: inspect and redrive (README)",
		a.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: minute()}),
		gt, 0, 1, 1)

	a.alarm(s, "DBConnections", p+"-db-connections",
		fmt.Sprintf("MySQL connections above 80 %% of max_connections (%d)", data.DBMaxConnections),
		awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/RDS"), MetricName: jsii.String("DatabaseConnections"),
			DimensionsMap: &map[string]*string{"DBInstanceIdentifier": jsii.String(data.DBInstanceID)},
			Statistic:     jsii.String("Maximum"), Period: fiveMinutes(),
		}), gt, dbConnectionsPc*float64(data.DBMaxConnections), 2, 2)

	for i, node := range data.RedisNodeIDs {
		a.alarm(s, fmt.Sprintf("RedisMemory%d", i+1), node+"-memory", "Redis memory above 80 % on "+node,
			redisMemory(node), gt, redisMemoryPc, 3, 3)
	}
}

func redisMemory(node string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/ElastiCache"), MetricName: jsii.String("DatabaseMemoryUsagePercentage"),
		DimensionsMap: &map[string]*string{"CacheClusterId": jsii.String(node)},
		Statistic:     jsii.String("Maximum"), Period: fiveMinutes(),
	})
}
