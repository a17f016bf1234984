// Command dr is the database disaster-recovery tool (infra/README.md,
// "Disaster recovery").
//
//	go run ./scripts/dr pitr    -stage prod (-time 2026-11-25T10:15:00Z | -latest) [-switch] [-dry-run]
//	go run ./scripts/dr restore -stage prod -snapshot ID-or-ARN [-source-region R] [-switch] [-dry-run]
//	go run ./scripts/dr switch  -stage prod -restored ID [-dry-run]
//	go run ./scripts/dr check   -dsn DSN
//
// pitr restores the stage's RDS instance to a point in time, restore to a
// snapshot (AWS Backup or manual; -source-region first copies a snapshot from
// another region). Both create a new instance beside the old one with the old
// one's network, parameter group and Multi-AZ setting, and stop there unless
// -switch (or a later `switch -restored <id>` after checking it): then the old instance is renamed to <id>-old, the restored one
// takes the stack's identifier, and RDS Proxy is pointed at it, so the
// functions keep their endpoint and the stack matches again. -dry-run prints
// every AWS call, in order, as the equivalent AWS CLI command, and calls
// nothing. AWS access uses the default configuration chain.
//
// check runs the post-restore consistency check of the application's data on
// a database (run it against the restored instance before -switch, or through
// the proxy after): migrations at head, no appointment, segment, call or
// callback pointing at a missing customer, appointment or tenant, every
// idempotency record final. It prints counts only, never personal data, and
// exits 1 when anything is inconsistent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancel()
	err := run(ctx, os.Args[1], os.Args[2:], os.Stdout)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		_, _ = fmt.Fprintln(os.Stderr, "dr:", err)
		usage(os.Stderr)
		os.Exit(2)
	case err != nil:
		_, _ = fmt.Fprintln(os.Stderr, "dr:", err)
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func usage(w io.Writer) {
	_, _ = fmt.Fprintln(w, `usage:
  go run ./scripts/dr pitr    -stage prod (-time RFC3339 | -latest) [-switch] [-dry-run]
  go run ./scripts/dr restore -stage prod -snapshot ID-or-ARN [-source-region R] [-switch] [-dry-run]
  go run ./scripts/dr switch  -stage prod -restored ID [-dry-run]
  go run ./scripts/dr check   -dsn DSN`)
}

func run(ctx context.Context, cmd string, args []string, out io.Writer) error {
	switch cmd {
	case "pitr", "restore", "switch":
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o options
		fs.StringVar(&o.Stage, "stage", "", "dev or prod")
		fs.StringVar(&o.Region, "region", os.Getenv("AWS_REGION"), "region of the stage (default $AWS_REGION)")
		fs.BoolVar(&o.Switch, "switch", false, "after the restore, rename and point RDS Proxy at the restored instance")
		fs.BoolVar(&o.DryRun, "dry-run", false, "print every AWS call and make none")
		stamp := fs.String("suffix", time.Now().UTC().Format("20060102-1504"), "suffix of the restored instance's temporary identifier")
		switch cmd {
		case "switch":
			fs.StringVar(&o.Restored, "restored", "", "identifier of the restored instance (what pitr or restore printed)")
		case "pitr":
			fs.StringVar(&o.Time, "time", "", "restore time, RFC 3339 (UTC)")
			fs.BoolVar(&o.Latest, "latest", false, "restore to the latest restorable time")
		default:
			fs.StringVar(&o.Snapshot, "snapshot", "", "DB snapshot identifier or ARN")
			fs.StringVar(&o.SourceRegion, "source-region", "", "copy the snapshot from this region first (lost region)")
		}
		if err := fs.Parse(args); err != nil {
			return usageError(err.Error())
		}
		o.Suffix = *stamp
		if err := o.validate(cmd); err != nil {
			return err
		}
		steps := plan(cmd, o)
		if o.DryRun {
			p := &printer{w: out}
			for i, s := range steps {
				p.f("%2d. %s\n", i+1, s.describe(&state{}))
			}
			return p.err
		}
		return execute(ctx, o, steps, out)
	case "check":
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		dsn := fs.String("dsn", os.Getenv("MYSQL_DSN"), "database DSN (default $MYSQL_DSN)")
		if err := fs.Parse(args); err != nil {
			return usageError(err.Error())
		}
		if *dsn == "" {
			return usageError("check: no DSN: set MYSQL_DSN or pass -dsn")
		}
		problems, err := checkDSN(ctx, *dsn, out)
		if err != nil {
			return err
		}
		if problems > 0 {
			return fmt.Errorf("check: %d inconsistencies", problems)
		}
		return nil
	default:
		return usageError(fmt.Sprintf("unknown command %q", cmd))
	}
}

// options of pitr and restore.
type options struct {
	Stage, Region, Time, Snapshot, SourceRegion, Suffix, Restored string
	Latest, Switch, DryRun                                        bool
}

func (o *options) validate(cmd string) error {
	if o.Stage != "dev" && o.Stage != "prod" {
		return usageError("-stage must be dev or prod")
	}
	if o.Region == "" {
		o.Region = "eu-central-1"
	}
	if cmd == "pitr" {
		if (o.Time == "") == !o.Latest {
			return usageError("pitr: give exactly one of -time and -latest")
		}
		if o.Time != "" {
			t, err := time.Parse(time.RFC3339, o.Time)
			if err != nil {
				return usageError("pitr: -time: " + err.Error())
			}
			o.Time = t.UTC().Format(time.RFC3339)
		}
	}
	if cmd == "switch" && (o.Restored == "" || o.Restored == instanceID(o.Stage) || !strings.HasPrefix(o.Restored, instanceID(o.Stage)+"-")) {
		return usageError("switch: -restored must name the restored instance (" + instanceID(o.Stage) + "-r...)")
	}
	if cmd == "restore" && o.Snapshot == "" {
		return usageError("restore: -snapshot is required")
	}
	if strings.ContainsAny(o.Suffix, " /:") || o.Suffix == "" {
		return usageError("-suffix: letters, digits and dashes only")
	}
	return nil
}

// Names the stacks give the stage's resources (infra/data.go).
func instanceID(stage string) string { return "telefonagent-" + stage + "-mysql" }
func proxyName(stage string) string  { return "telefonagent-" + stage + "-proxy" }

// restoredID is the identifier a restore gives the new instance until the switch.
func restoredID(o options) string { return instanceID(o.Stage) + "-r" + o.Suffix }
