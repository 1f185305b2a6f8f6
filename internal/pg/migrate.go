package pg

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// MigrationFiles are the embedded numbered migrations.
//
//go:embed migrations/*.sql
var MigrationFiles embed.FS

const versionTable = "public.schema_version"

// Migrate brings the database to the latest schema: it ensures the
// application role exists with its limits, then applies our numbered
// migrations (tern, under an advisory lock) and River's. It runs as the owner
// and is idempotent: a second run changes nothing. Concurrent runs against
// one database wait for each other.
func Migrate(ctx context.Context, owner *pgxpool.Pool, appPassword string) error {
	conn, err := owner.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// Concurrent runs (several replicas starting at once) take turns: tern
	// locks its own migrations, but River's and the role setup are not
	// safe to run twice at the same time.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('servicenet migrate'))`); err != nil {
		return fmt.Errorf("migrate lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext('servicenet migrate'))`) //nolint:errcheck
	if err := EnsureAppRole(ctx, owner, appPassword); err != nil {
		return err
	}
	m, err := newMigrator(ctx, conn.Conn())
	if err != nil {
		return err
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(owner), nil)
	if err != nil {
		return err
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	// After River's migrations, which would make the index again.
	for _, name := range DroppedRiverIndexes {
		if _, err := conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("river schema: drop %s: %w", name, err)
		}
	}
	return nil
}

// DroppedRiverIndexes are the indexes of River's schema that Migrate drops
// after River's migrations (River's reindexer is given RiverIndexes).
//
// river_job_args_index is a GIN index over every job's args (jsonb_ops: an
// entry per key and per value). Nothing here or in River (v0.51) or River UI
// (v0.22) searches args by containment: unique jobs match by unique_key,
// and jobs.WatchImports reads args of rows it finds by kind and state. Yet
// every insert, and every non-HOT update a job's life makes (running,
// completed, retried: state is indexed), adds its entries, through GIN's
// pending list and its one metapage, which every inserting backend takes in
// turn. Measured with pgbench (16 clients, 10 s, prepared, on this 2-core
// machine): one transaction inserting an SLA timer as River does (its args,
// unique key and metadata) runs 8,806 and 9,000 tx/s with the index, 10,380
// and 10,941 without: 0.037 ms of CPU per job insert, about 1 % of an
// intake's (an intake then inserted one timer; since migration 049 none; a
// claim submission inserted an adjudication job until claims were swept:
// none since). river_job_metadata_index stays: test clocks find their parked
// jobs (payout deadlines) by metadata (jobs.fireParked). On a
// River upgrade, check that no new River migration or query needs it (none
// up to River's schema version 8).
var DroppedRiverIndexes = []string{"river_job_args_index"}

// RiverIndexes are the indexes River's reindexer rebuilds that Migrate
// leaves in place: River's defaults without DroppedRiverIndexes.
func RiverIndexes() []string {
	return slices.DeleteFunc(river.ReindexerIndexNamesDefault(), func(name string) bool {
		return slices.Contains(DroppedRiverIndexes, name)
	})
}

func newMigrator(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(MigrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return nil, err
	}
	return m, nil
}

// EnsureAppRole creates the application role if it is missing and (re)applies
// its attributes: login, no superuser, no BYPASSRLS, and statement, lock and
// idle-transaction timeouts. Creating it needs CREATEROLE; where the owner
// lacks it, an administrator creates the role beforehand.
func EnsureAppRole(ctx context.Context, owner *pgxpool.Pool, password string) error {
	var exists bool
	if err := owner.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, AppRole).Scan(&exists); err != nil {
		return err
	}
	var stmts []string
	if !exists {
		var create string
		if err := owner.QueryRow(ctx, `SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L', $1::text, $2::text)`,
			AppRole, password).Scan(&create); err != nil {
			return err
		}
		stmts = append(stmts, create)
	}
	// Role settings are cluster-wide, so migrations of other databases in the
	// cluster may be setting them at this moment (concurrent ALTER ROLEs fail
	// with "tuple concurrently updated"): write only what differs.
	var have []string
	if err := owner.QueryRow(ctx, `
		SELECT coalesce((SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
		                 WHERE r.rolname = $1 AND s.setdatabase = 0), '{}')`, AppRole).Scan(&have); err != nil {
		return err
	}
	for _, set := range [][2]string{{"statement_timeout", "15s"}, {"lock_timeout", "5s"}, {"idle_in_transaction_session_timeout", "60s"}} {
		if !slices.Contains(have, set[0]+"="+set[1]) {
			stmts = append(stmts, `ALTER ROLE `+AppRole+` SET `+set[0]+` = '`+set[1]+`'`)
		}
	}
	for _, s := range stmts {
		if _, err := owner.Exec(ctx, s); err != nil {
			return fmt.Errorf("ensure role %s: %w", AppRole, err)
		}
	}
	var db string
	if err := owner.QueryRow(ctx, `SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), $1::text)`, AppRole).Scan(&db); err != nil {
		return err
	}
	_, err := owner.Exec(ctx, db)
	return err
}

// SchemaStatus says whether the database schema is current.
type SchemaStatus struct {
	Version, Latest           int32
	RiverVersion, RiverLatest int
}

// Current reports whether both ledgers are at (or past) the latest version
// this binary knows.
//
// A schema ahead of the binary counts as current: migrations are additive
// (expand, then contract in a later release), so during a rolling upgrade the
// old pods keep serving after the new release's migrate job has run.
func (s SchemaStatus) Current() bool {
	return s.Version >= s.Latest && s.RiverVersion >= s.RiverLatest
}

// CheckSchema reads both migration ledgers. It needs only SELECT, so the
// application role can call it (readiness probe).
func CheckSchema(ctx context.Context, db *pgxpool.Pool) (SchemaStatus, error) {
	var st SchemaStatus
	names, err := fs.Glob(MigrationFiles, "migrations/*.sql")
	if err != nil {
		return st, err
	}
	st.Latest = int32(len(names))
	if err := db.QueryRow(ctx, `SELECT version FROM `+versionTable).Scan(&st.Version); err != nil {
		return st, fmt.Errorf("read schema version: %w", err)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(db), nil)
	if err != nil {
		return st, err
	}
	all := rm.AllVersions()
	st.RiverLatest = all[len(all)-1].Version
	if err := db.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM river_migration WHERE line = 'main'`).Scan(&st.RiverVersion); err != nil {
		return st, fmt.Errorf("read river version: %w", err)
	}
	return st, nil
}
