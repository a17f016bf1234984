// Command migrate applies the embedded schema migrations or shows their
// state:
//
//	go run ./scripts/migrate [-dsn DSN] [up|status]
//
// The DSN defaults to $MYSQL_DSN (go-sql-driver format, e.g.
// "user:pass@tcp(127.0.0.1:3306)/gateway"). "up" (the default) applies what
// is pending and lists it; "status" lists every migration as applied or
// pending and changes nothing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/telefonagent/gateway/shared/mysql"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("MYSQL_DSN"), "database DSN (default $MYSQL_DSN)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/migrate [-dsn DSN] [up|status]")
		flag.PrintDefaults()
	}
	flag.Parse()
	cmd := "up"
	if flag.NArg() > 1 {
		flag.Usage()
		os.Exit(2)
	}
	if flag.NArg() == 1 {
		cmd = flag.Arg(0)
	}
	if *dsn == "" {
		fmt.Fprintln(os.Stderr, "migrate: no DSN: set MYSQL_DSN or pass -dsn")
		os.Exit(2)
	}
	if err := run(cmd, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(cmd, dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// DDL on a big table can take longer than the Lambda read timeout.
	db, err := mysql.Open(ctx, dsn, mysql.Options{ReadTimeout: 5 * time.Minute, WriteTimeout: time.Minute, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	switch cmd {
	case "status":
		st, err := mysql.MigrationStatus(ctx, db)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Printf("%-8s %s\n", state, s.Name)
		}
		return nil
	case "up":
		applied, err := mysql.Migrate(ctx, db)
		for _, name := range applied {
			fmt.Printf("applied  %s\n", name)
		}
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Println("schema is up to date")
		}
		return nil
	}
	return fmt.Errorf("unknown command %q (want up or status)", cmd)
}
