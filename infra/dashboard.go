package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/telefonagent/gateway/shared/catalog"
)

// newDashboard: request rate, latency percentiles per function, error rate,
// booking outcomes, webhooks by type, DB connections, Redis memory.
func (a *AppStack) newDashboard(cfg Config, data *Data) {
	graph := func(title string, width float64, left []awscloudwatch.IMetric, right []awscloudwatch.IMetric) awscloudwatch.GraphWidget {
		props := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Width: jsii.Number(width), Height: jsii.Number(6), Left: &left}
		if len(right) > 0 {
			props.Right = &right
		}
		return awscloudwatch.NewGraphWidget(props)
	}
	search := func(label, expr string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(expr), Label: jsii.String(label), Period: fiveMinutes(),
			UsingMetrics: &map[string]awscloudwatch.IMetric{},
		})
	}

	var requests, errors []awscloudwatch.IMetric
	for _, name := range a.Order {
		u := a.Units[name]
		requests = append(requests, u.Alias.MetricInvocations(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Sum"), Period: minute(), Label: jsii.String(name)}))
		errors = append(errors, u.Alias.MetricErrors(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Sum"), Period: minute(), Label: jsii.String(name)}))
	}
	rows := [][]awscloudwatch.IWidget{
		{
			awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Width: jsii.Number(24), Height: jsii.Number(1),
				Markdown: jsii.String(fmt.Sprintf("# Telefonagent gateway (%s)", cfg.Stage))}),
		},
		{
			graph("Requests per minute (API)", 8, []awscloudwatch.IMetric{
				a.API.MetricCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: minute(), Label: jsii.String("requests")}),
			}, nil),
			graph("API error rate (%)", 8, []awscloudwatch.IMetric{
				awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{Expression: jsii.String("100 * FILL(e5,0) / c"), Label: jsii.String("5xx %"),
					Period: minute(), UsingMetrics: &map[string]awscloudwatch.IMetric{
						"e5": a.API.MetricServerError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: minute()}),
						"c":  a.API.MetricCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: minute()}),
					}}),
				awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{Expression: jsii.String("100 * FILL(e4,0) / c"), Label: jsii.String("4xx %"),
					Period: minute(), UsingMetrics: &map[string]awscloudwatch.IMetric{
						"e4": a.API.MetricClientError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: minute()}),
						"c":  a.API.MetricCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: minute()}),
					}}),
			}, nil),
			graph("Invocations per function", 8, requests, []awscloudwatch.IMetric{
				search("requests (EMF)", fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', 'Sum', 60)`, MetricNamespace, DimFunction, MetricRequests)),
			}),
		},
		{
			graph("Errors per function", 8, errors, nil),
			graph("Booking outcomes", 8, []awscloudwatch.IMetric{
				search("booking", fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s"', 'Sum', 300)`, MetricNamespace, DimFunction, DimOutcome, MetricBookingOutcome)),
			}, nil),
			graph("Webhooks by type", 8, []awscloudwatch.IMetric{
				search("webhooks", fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s"', 'Sum', 300)`, MetricNamespace, DimFunction, DimEventType, MetricWebhookEvents)),
			}, []awscloudwatch.IMetric{
				search("signature failures", fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', 'Sum', 300)`, MetricNamespace, DimFunction, MetricSignatureFailures)),
			}),
		},
	}
	var dataRow []awscloudwatch.IWidget
	dataRow = append(dataRow, graph("MySQL connections", 12, []awscloudwatch.IMetric{
		awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/RDS"), MetricName: jsii.String("DatabaseConnections"),
			DimensionsMap: &map[string]*string{"DBInstanceIdentifier": jsii.String(data.DBInstanceID)},
			Statistic:     jsii.String("Maximum"), Period: minute(),
		}),
	}, nil))
	var redis []awscloudwatch.IMetric
	for _, n := range data.RedisNodeIDs {
		redis = append(redis, redisMemory(n))
	}
	dataRow = append(dataRow, graph("Redis memory used (%)", 12, redis, nil))
	rows = append(rows, dataRow)

	// Latency percentiles, one widget per function (handler latency from EMF
	// and Lambda duration of the alias side by side).
	var row []awscloudwatch.IWidget
	for _, name := range a.Order {
		u := a.Units[name]
		var m []awscloudwatch.IMetric
		for _, p := range []string{"p50", "p95", "p99"} {
			m = append(m, u.Alias.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String(p), Period: minute(), Label: jsii.String("duration " + p)}))
		}
		right := []awscloudwatch.IMetric{}
		if u.Spec.Trigger == catalog.TriggerHTTP {
			right = append(right, emf(MetricLatency, "p95", minute(), map[string]string{DimFunction: MetricFunctionValue(cfg, name)}))
		}
		row = append(row, graph(name+" latency (ms)", 8, m, right))
		if len(row) == 3 {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	widgets := make([]*[]awscloudwatch.IWidget, len(rows))
	for i := range rows {
		widgets[i] = &rows[i]
	}
	a.Dashboard = awscloudwatch.NewDashboard(a.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(cfg.Prefix()),
		Widgets:       &widgets,
	})
}
