package mysql

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"
	"path"

	"github.com/pressly/goose/v3"

	"github.com/telefonagent/gateway/shared/booking"
)

// Migrations are embedded so every binary (the migrate function, scripts)
// carries exactly the schema it was built for.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrationsFS returns the embedded migrations (files at the root).
func MigrationsFS() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

func provider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectMySQL, db, MigrationsFS())
	if err != nil {
		return nil, booking.Wrap(booking.KindInternal, "mysql.migrations", err, "cannot load migrations")
	}
	return p, nil
}

// Migrate applies every pending migration in order and returns the file
// names it applied (none when the schema is current).
func Migrate(ctx context.Context, db *sql.DB) ([]string, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	applied := make([]string, 0, len(results))
	for _, r := range results {
		if r.Error == nil {
			applied = append(applied, path.Base(r.Source.Path))
		}
	}
	if err != nil {
		return applied, mapErr("mysql.Migrate", err)
	}
	return applied, nil
}

// MigrationState is one migration and whether it is applied.
type MigrationState struct {
	Name    string
	Version int64
	Applied bool
}

// MigrationStatus lists every embedded migration with its state.
func MigrationStatus(ctx context.Context, db *sql.DB) ([]MigrationState, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, mapErr("mysql.MigrationStatus", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationState{Name: path.Base(s.Source.Path), Version: s.Source.Version, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

// Pending returns the file names of migrations not yet applied.
func Pending(ctx context.Context, db *sql.DB) ([]string, error) {
	st, err := MigrationStatus(ctx, db)
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, s := range st {
		if !s.Applied {
			pending = append(pending, s.Name)
		}
	}
	return pending, nil
}
