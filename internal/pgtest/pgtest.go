// Package pgtest is the test database harness. Every test runs against a real
// PostgreSQL (make test starts one and sets DATABASE_URL to its owner role):
//
//   - NewDB gives a test its own database, cloned from a migrated template
//     (tens of milliseconds), for tests that commit: HTTP, River clients,
//     services that open their own transactions.
//   - Tx gives a test a transaction in a shared, migrated database that is
//     rolled back when the test ends (well under a millisecond), for tests of
//     SQL and policies.
//
// Both connect as the application role, so row-level security is really on.
// The template is keyed by a hash of the migrations (and of what Migrate
// does after River's), so a schema change builds a new one, and concurrent
// test binaries build it once.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
)

// AppPassword is the application role's password in test clusters.
const AppPassword = "servicenet_app"

// DB is a test's own database.
type DB struct {
	Name     string
	OwnerURL string
	AppURL   string
	// Owner connects as the owner role (migrations' privileges; still under
	// forced RLS). App connects as the application role.
	Owner *pgxpool.Pool
	App   *pgxpool.Pool

	adminURL string // DATABASE_URL, to drop it
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// OwnerURL is DATABASE_URL; tests fail (not skip) without it.
func OwnerURL(t testing.TB) string {
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`, which starts a local PostgreSQL")
	}
	return u
}

func withDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic("pgtest: DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String()
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(pg.MigrationFiles, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(pg.MigrationFiles, path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	// and what Migrate does after River's migrations
	h.Write([]byte(strings.Join(pg.DroppedRiverIndexes, ",")))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func buildTemplate(ctx context.Context, ownerURL string) (string, error) {
	name := "servicenet_tpl_" + migrationsHash()
	admin, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	// Serialise template builds across concurrently running test binaries.
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, name); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext($1))`, name) //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", err
	}
	owner, err := pg.Connect(ctx, withDatabase(ownerURL, building), pg.PoolOptions{Name: "pgtest-migrate", MaxConns: 2})
	if err != nil {
		return "", err
	}
	err = pg.Migrate(ctx, owner, AppPassword)
	owner.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", err
	}
	return name, nil
}

// NewDB creates a database for the test from the migrated template and drops
// it when the test ends.
func NewDB(t testing.TB) *DB {
	t.Helper()
	db, err := OpenDB(OwnerURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { db.Drop(t.Logf) })
	return db
}

// OpenDB creates a database from the migrated template, for a fixture that
// outlives one test (apitest.Shared); whoever opens it drops it (Drop).
func OpenDB(ownerURL string) (*DB, error) {
	ctx := context.Background()
	templateOnce.Do(func() {
		bctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		templateName, templateErr = buildTemplate(bctx, ownerURL)
	})
	if templateErr != nil {
		return nil, fmt.Errorf("build template database: %w", templateErr)
	}

	name := "servicenet_test_" + strings.ToLower(rand.Text()[:16])
	admin, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close(ctx)
	// CREATE DATABASE ... TEMPLATE fails if another session is using the
	// template at that instant (another binary cloning): retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+templateName)
		if err == nil || attempt == 20 || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("clone template: %w", err)
	}

	db := &DB{Name: name, OwnerURL: withDatabase(ownerURL, name), adminURL: ownerURL}
	if db.AppURL, err = pg.AppURL(db.OwnerURL, AppPassword); err == nil {
		if db.Owner, err = pg.Connect(ctx, db.OwnerURL, pg.PoolOptions{Name: "pgtest-owner", MaxConns: 4}); err == nil {
			db.App, err = pg.Connect(ctx, db.AppURL, pg.PoolOptions{Name: "pgtest-app", MaxConns: 40})
		}
	}
	if err != nil {
		db.Drop(func(string, ...any) {})
		return nil, err
	}
	return db, nil
}

// Drop closes the database's pools and drops it; logf reports a failure.
func (db *DB) Drop(logf func(format string, args ...any)) {
	if db.App != nil {
		db.App.Close()
	}
	if db.Owner != nil {
		db.Owner.Close()
	}
	c, err := pgx.Connect(context.Background(), db.adminURL)
	if err != nil {
		logf("drop %s: %v", db.Name, err)
		return
	}
	defer c.Close(context.Background())
	dropDatabase(logf, c, db.Name)
}

// DropDatabase drops a test database. The pools are closed by then, but
// their backends (and autovacuum) may take a moment to leave; the owner role
// may not terminate the application role's backends (WITH (FORCE) needs
// that), so it waits for them instead.
func DropDatabase(t testing.TB, c *pgx.Conn, name string) { dropDatabase(t.Logf, c, name) }

func dropDatabase(logf func(format string, args ...any), c *pgx.Conn, name string) {
	ctx := context.Background()
	var err error
	for attempt := 0; attempt < 100; attempt++ {
		_, err = c.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize())
		if err == nil || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		logf("drop %s: %v", name, err)
	}
}

var (
	sharedOnce sync.Once
	sharedApp  *pgxpool.Pool
	sharedErr  error
)

// Tx begins a transaction as the application role in a database shared by
// every test of this schema version, and rolls it back when the test ends.
// Nothing a test does in it is ever visible to another test, and the shared
// database stays empty, so it is kept and reused by later runs.
func Tx(t testing.TB) pgx.Tx {
	t.Helper()
	tx, err := Shared(t).Begin(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

// Shared is the application role's pool on the database Tx uses, for
// helpers that hold a transaction longer than one test
// (internal/domaintest). Whatever is done on it must be rolled back.
func Shared(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	ownerURL := OwnerURL(t) // every test fails the same way, not only the first
	sharedOnce.Do(func() {
		name, err := buildTemplate(ctx, ownerURL)
		if err != nil {
			sharedErr = err
			return
		}
		shared := strings.Replace(name, "_tpl_", "_shared_", 1)
		admin, err := pgx.Connect(ctx, ownerURL)
		if err != nil {
			sharedErr = err
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, shared); err != nil {
			sharedErr = err
			return
		}
		defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext($1))`, shared) //nolint:errcheck
		var exists bool
		if sharedErr = admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, shared).Scan(&exists); sharedErr != nil {
			return
		}
		if !exists {
			if _, sharedErr = admin.Exec(ctx, `CREATE DATABASE `+shared+` TEMPLATE `+name); sharedErr != nil {
				return
			}
		}
		appURL, err := pg.AppURL(withDatabase(ownerURL, shared), AppPassword)
		if err != nil {
			sharedErr = err
			return
		}
		sharedApp, sharedErr = pg.Connect(ctx, appURL, pg.PoolOptions{Name: "pgtest-shared", MaxConns: 8})
	})
	require.NoError(t, sharedErr, "shared test database")
	return sharedApp
}
