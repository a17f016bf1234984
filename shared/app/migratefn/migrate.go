// Package migratefn is the migrate function: schema migrations applied by
// a CDK trigger before new code takes traffic. Its own package so only the
// migrate binary links the RDS client.
package migratefn

import (
	"context"
	"encoding/json"
	"os"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/platform"
)

// MigrateResult is what the migrate function reports to the CDK trigger.
type MigrateResult struct {
	Pending  []string `json:"pending"`
	Applied  []string `json:"applied"`
	Snapshot string   `json:"snapshot,omitempty"`
}

func init() { app.RegisterInvocation("migrate", runMigrate) }

// runMigrate applies pending migrations before new code takes traffic. In
// prod it first takes a manual snapshot of the database (DB_INSTANCE_ID or
// DB_CLUSTER_ID). Any failure fails the trigger, so the deployment stops
// before a single request reaches the new version. Migrations must stay
// backward compatible with the previous code version, because during a
// canary both versions serve traffic.
func runMigrate(ctx context.Context, d *app.Deps, _ json.RawMessage) (any, error) {
	db := d.Store.DB()
	pending, err := mysql.Pending(ctx, db)
	if err != nil {
		return nil, err
	}
	res := MigrateResult{Pending: pending}
	d.Logger.InfoContext(ctx, "pending migrations", "count", len(pending), "migrations", pending)
	if len(pending) == 0 {
		return res, nil
	}
	if d.Config.Stage == platform.StageProd || os.Getenv("SNAPSHOT_BEFORE_MIGRATE") == "true" {
		if res.Snapshot, err = snapshot(ctx, d); err != nil {
			return nil, err
		}
	}
	if res.Applied, err = mysql.Migrate(ctx, db); err != nil {
		d.Logger.ErrorContext(ctx, "migration failed: deployment stops here", "error", err.Error())
		return nil, err
	}
	d.Logger.InfoContext(ctx, "migrations applied", "applied", res.Applied)
	return res, nil
}

func snapshot(ctx context.Context, d *app.Deps) (string, error) {
	inst, cluster := os.Getenv("DB_INSTANCE_ID"), os.Getenv("DB_CLUSTER_ID")
	if inst == "" && cluster == "" {
		return "", booking.Errorf(booking.KindInternal, "migrate.snapshot", "prod needs DB_INSTANCE_ID or DB_CLUSTER_ID to snapshot before migrating")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(d.Config.Region))
	if err != nil {
		return "", booking.Wrap(booking.KindInternal, "migrate.snapshot", err, "AWS configuration")
	}
	c := rds.NewFromConfig(awsCfg)
	prefix := os.Getenv("SNAPSHOT_ID_PREFIX")
	if prefix == "" {
		prefix = "pre-migrate-"
	}
	id := prefix + time.Now().UTC().Format("20060102-150405")
	if inst != "" {
		_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: &inst, DBSnapshotIdentifier: &id})
	} else {
		_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: &cluster, DBClusterSnapshotIdentifier: &id})
	}
	if err != nil {
		return "", booking.Wrap(booking.KindTransient, "migrate.snapshot", err, "snapshot before migration failed")
	}
	d.Logger.InfoContext(ctx, "snapshot taken before migrating", "snapshot", id)
	return id, nil
}
