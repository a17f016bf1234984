package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// state is what earlier steps learned (the source instance's settings); in a
// dry run it stays empty and the commands name where the value comes from.
type state struct {
	SubnetGroup    string
	SecurityGroups []string
	ParameterGroup string
	MultiAZ        *bool
	Password       string
}

func (s *state) subnetGroup() string { return or(s.SubnetGroup, "<DBSubnetGroup of the source>") }
func (s *state) parameterGroup() string {
	return or(s.ParameterGroup, "<DBParameterGroup of the source>")
}
func (s *state) securityGroups() string {
	if len(s.SecurityGroups) == 0 {
		return "<VpcSecurityGroups of the source>"
	}
	return strings.Join(s.SecurityGroups, " ")
}
func (s *state) multiAZ() string {
	switch {
	case s.MultiAZ == nil:
		return "--(no-)multi-az <as the source>"
	case *s.MultiAZ:
		return "--multi-az"
	default:
		return "--no-multi-az"
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// clients are the AWS APIs the steps call.
type clients struct {
	rds     *rds.Client
	secrets *secretsmanager.Client
}

// step is one AWS call (or waiter) and the AWS CLI command that does the same.
type step struct {
	describe func(*state) string
	exec     func(context.Context, clients, *state) error
}

const waitMax = 2 * time.Hour

func plan(cmd string, o options) []step {
	if cmd == "switch" {
		return switchSteps(o.Stage, o.Restored)
	}
	src, tmp := instanceID(o.Stage), restoredID(o)
	secretID := "telefonagent-" + o.Stage + "/db-admin"
	prod := o.Stage == "prod"
	var steps []step
	add := func(d func(*state) string, e func(context.Context, clients, *state) error) {
		steps = append(steps, step{describe: d, exec: e})
	}
	waitAvailable := func(id string) {
		add(func(*state) string { return "aws rds wait db-instance-available --db-instance-identifier " + id },
			func(ctx context.Context, c clients, _ *state) error {
				return rds.NewDBInstanceAvailableWaiter(c.rds).Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, waitMax)
			})
	}

	snapshot := o.Snapshot
	if cmd == "restore" && o.SourceRegion != "" {
		copyID := "telefonagent-" + o.Stage + "-dr-" + o.Suffix
		add(func(*state) string {
			return fmt.Sprintf("aws rds copy-db-snapshot --region %s --source-region %s --source-db-snapshot-identifier %s "+
				"--target-db-snapshot-identifier %s --kms-key-id alias/aws/rds --copy-tags", o.Region, o.SourceRegion, o.Snapshot, copyID)
		}, func(ctx context.Context, c clients, _ *state) error {
			_, err := c.rds.CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{
				SourceDBSnapshotIdentifier: aws.String(o.Snapshot), TargetDBSnapshotIdentifier: aws.String(copyID),
				SourceRegion: aws.String(o.SourceRegion), KmsKeyId: aws.String("alias/aws/rds"), CopyTags: aws.Bool(true),
			})
			return err
		})
		add(func(*state) string {
			return "aws rds wait db-snapshot-available --db-snapshot-identifier " + copyID
		}, func(ctx context.Context, c clients, _ *state) error {
			return rds.NewDBSnapshotAvailableWaiter(c.rds).Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(copyID)}, waitMax)
		})
		snapshot = copyID
	}

	add(func(*state) string {
		return "aws rds describe-db-instances --db-instance-identifier " + src + "   # network, parameters, Multi-AZ"
	},
		func(ctx context.Context, c clients, s *state) error {
			out, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(src)})
			if err != nil {
				return err
			}
			if len(out.DBInstances) != 1 {
				return fmt.Errorf("%s: %d instances", src, len(out.DBInstances))
			}
			db := out.DBInstances[0]
			if db.DBSubnetGroup != nil {
				s.SubnetGroup = aws.ToString(db.DBSubnetGroup.DBSubnetGroupName)
			}
			for _, sg := range db.VpcSecurityGroups {
				s.SecurityGroups = append(s.SecurityGroups, aws.ToString(sg.VpcSecurityGroupId))
			}
			if len(db.DBParameterGroups) > 0 {
				s.ParameterGroup = aws.ToString(db.DBParameterGroups[0].DBParameterGroupName)
			}
			s.MultiAZ = db.MultiAZ
			return nil
		})

	common := func(s *state) string {
		return fmt.Sprintf("--db-subnet-group-name %s --vpc-security-group-ids %s --db-parameter-group-name %s %s "+
			"--enable-iam-database-authentication --copy-tags-to-snapshot%s",
			s.subnetGroup(), s.securityGroups(), s.parameterGroup(), s.multiAZ(), map[bool]string{true: " --deletion-protection"}[prod])
	}
	if cmd == "pitr" {
		when := "--restore-time " + o.Time
		if o.Latest {
			when = "--use-latest-restorable-time"
		}
		add(func(s *state) string {
			return fmt.Sprintf("aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier %s "+
				"--target-db-instance-identifier %s %s %s", src, tmp, when, common(s))
		}, func(ctx context.Context, c clients, s *state) error {
			in := &rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String(src), TargetDBInstanceIdentifier: aws.String(tmp),
				DBSubnetGroupName: aws.String(s.SubnetGroup), VpcSecurityGroupIds: s.SecurityGroups,
				DBParameterGroupName: aws.String(s.ParameterGroup), MultiAZ: s.MultiAZ,
				EnableIAMDatabaseAuthentication: aws.Bool(true), CopyTagsToSnapshot: aws.Bool(true), DeletionProtection: aws.Bool(prod),
			}
			if o.Latest {
				in.UseLatestRestorableTime = aws.Bool(true)
			} else {
				t, _ := time.Parse(time.RFC3339, o.Time) // validated
				in.RestoreTime = aws.Time(t)
			}
			_, err := c.rds.RestoreDBInstanceToPointInTime(ctx, in)
			return err
		})
	} else {
		add(func(s *state) string {
			return fmt.Sprintf("aws rds restore-db-instance-from-db-snapshot --db-instance-identifier %s --db-snapshot-identifier %s %s",
				tmp, snapshot, common(s))
		}, func(ctx context.Context, c clients, s *state) error {
			_, err := c.rds.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier: aws.String(tmp), DBSnapshotIdentifier: aws.String(snapshot),
				DBSubnetGroupName: aws.String(s.SubnetGroup), VpcSecurityGroupIds: s.SecurityGroups,
				DBParameterGroupName: aws.String(s.ParameterGroup), MultiAZ: s.MultiAZ,
				EnableIAMDatabaseAuthentication: aws.Bool(true), CopyTagsToSnapshot: aws.Bool(true), DeletionProtection: aws.Bool(prod),
			})
			return err
		})
	}
	waitAvailable(tmp)

	// The restored instance has the admin password of the restore point; the
	// secret (which RDS Proxy and the rotation use) may have rotated since.
	add(func(*state) string {
		return "aws secretsmanager get-secret-value --secret-id " + secretID + "   # the current admin password"
	},
		func(ctx context.Context, c clients, s *state) error {
			out, err := c.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
			if err != nil {
				return err
			}
			s.Password, err = secretPassword(aws.ToString(out.SecretString))
			return err
		})
	add(func(*state) string {
		return "aws rds modify-db-instance --db-instance-identifier " + tmp + " --master-user-password <password from the secret> --apply-immediately"
	}, func(ctx context.Context, c clients, s *state) error {
		_, err := c.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(tmp),
			MasterUserPassword: aws.String(s.Password), ApplyImmediately: aws.Bool(true)})
		return err
	})
	waitAvailable(tmp)
	if !o.Switch {
		return steps
	}
	return append(steps, switchSteps(o.Stage, tmp)...)
}

// switchSteps make the restored instance tmp the stage's instance: the old one
// is renamed to <id>-old, tmp takes the stack's identifier, RDS Proxy targets it.
func switchSteps(stage, tmp string) []step {
	src, old, proxy := instanceID(stage), instanceID(stage)+"-old", proxyName(stage)
	var steps []step
	add := func(d func(*state) string, e func(context.Context, clients, *state) error) {
		steps = append(steps, step{describe: d, exec: e})
	}
	waitAvailable := func(id string) {
		add(func(*state) string { return "aws rds wait db-instance-available --db-instance-identifier " + id },
			func(ctx context.Context, c clients, _ *state) error {
				return rds.NewDBInstanceAvailableWaiter(c.rds).Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, waitMax)
			})
	}
	rename := func(from, to string) {
		add(func(*state) string {
			return fmt.Sprintf("aws rds modify-db-instance --db-instance-identifier %s --new-db-instance-identifier %s --apply-immediately", from, to)
		}, func(ctx context.Context, c clients, _ *state) error {
			_, err := c.rds.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(from),
				NewDBInstanceIdentifier: aws.String(to), ApplyImmediately: aws.Bool(true)})
			return err
		})
		waitAvailable(to)
	}
	rename(src, old)
	rename(tmp, src)
	add(func(*state) string {
		return "aws rds deregister-db-proxy-targets --db-proxy-name " + proxy + " --db-instance-identifiers " + old
	}, func(ctx context.Context, c clients, _ *state) error {
		_, err := c.rds.DeregisterDBProxyTargets(ctx, &rds.DeregisterDBProxyTargetsInput{DBProxyName: aws.String(proxy), DBInstanceIdentifiers: []string{old}})
		return err
	})
	add(func(*state) string {
		return "aws rds register-db-proxy-targets --db-proxy-name " + proxy + " --db-instance-identifiers " + src
	}, func(ctx context.Context, c clients, _ *state) error {
		_, err := c.rds.RegisterDBProxyTargets(ctx, &rds.RegisterDBProxyTargetsInput{DBProxyName: aws.String(proxy), DBInstanceIdentifiers: []string{src}})
		return err
	})
	add(func(*state) string {
		return "aws rds describe-db-proxy-targets --db-proxy-name " + proxy + "   # repeated until the target is AVAILABLE"
	}, func(ctx context.Context, c clients, _ *state) error {
		for {
			out, err := c.rds.DescribeDBProxyTargets(ctx, &rds.DescribeDBProxyTargetsInput{DBProxyName: aws.String(proxy)})
			if err != nil {
				return err
			}
			for _, t := range out.Targets {
				if aws.ToString(t.RdsResourceId) == src && t.TargetHealth != nil && t.TargetHealth.State == rdstypes.TargetStateAvailable {
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(15 * time.Second):
			}
		}
	})
	return steps
}

// execute runs the steps against AWS, printing each before it runs.
func execute(ctx context.Context, o options, steps []step, out io.Writer) error {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.Region))
	if err != nil {
		return err
	}
	c := clients{rds: rds.NewFromConfig(cfg), secrets: secretsmanager.NewFromConfig(cfg)}
	s := &state{}
	p := &printer{w: out}
	for i, st := range steps {
		p.f("%2d. %s\n", i+1, st.describe(s))
		if err := st.exec(ctx, c, s); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	p.f("done: check the restored data (dr check), then the README's verification\n")
	return p.err
}
