// Package idempotency keeps the records behind the Idempotency-Key header:
// one per (tenant, credential, key), holding a hash of the request and, once
// the request finished, its status, headers and body, for 24 hours.
//
// The protocol: Begin claims the key in its own committed transaction, so a
// concurrent duplicate finds the claim and is told to retry (or, once the
// first request finished, gets its response replayed). Complete stores the
// response; Release drops a claim whose request failed with a server error,
// so the client's retry runs again. A crash between the business commit and
// Complete leaves the claim in progress until it expires: the retry is
// refused rather than risking a second effect.
package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/servicenet/servicenet/internal/pg"
)

// Retention is how long a record is kept and replayed.
const Retention = 24 * time.Hour

// Scope is whose key it is. An empty TenantID is the platform operator.
type Scope struct {
	TenantID     string
	CredentialID string
}

// Record is a stored request outcome.
type Record struct {
	RequestHash string
	Method      string
	Path        string
	Completed   bool
	Status      int
	Headers     map[string][]string
	Body        []byte
}

// Store reads and writes idempotency records.
type Store struct {
	DB *pgxpool.Pool
}

// scoped runs fn in a transaction for sc's table. Every statement fn runs
// binds $1 = tenant (NULL for the platform), $2 = credential, $3 = key, and
// selects its rows with the returned where clause.
func (s *Store) scoped(ctx context.Context, sc Scope, fn func(tx pgx.Tx, table, where string, tenant any) error) error {
	if sc.TenantID == "" {
		return pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
			return fn(tx, "platform_idempotency_keys", "$1::text IS NULL AND credential_id = $2 AND key = $3", nil)
		})
	}
	return pg.InTenantTx(ctx, s.DB, sc.TenantID, func(tx pg.TenantTx) error {
		return fn(tx, "idempotency_keys", "tenant_id = $1 AND credential_id = $2 AND key = $3", tx.TenantID)
	})
}

// Begin claims key for a request. It returns nil when the caller now owns the
// key and must run the request, or the existing record (in progress or
// completed) for the caller to compare and replay.
func (s *Store) Begin(ctx context.Context, sc Scope, key, requestHash, method, path string) (*Record, error) {
	var existing *Record
	err := s.scoped(ctx, sc, func(tx pgx.Tx, table, where string, tenant any) error {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE `+where+` AND expires_at <= now()`, tenant, sc.CredentialID, key); err != nil {
			return err
		}
		cols, vals := "credential_id, key, request_hash, method, path, expires_at", "$2, $3, $4, $5, $6, $7"
		if tenant != nil {
			cols, vals = "tenant_id, "+cols, "$1, "+vals
		} else {
			vals += " FROM (SELECT $1::text) AS unused"
		}
		var r Record
		var state string
		var headers []byte
		// The claim that blocked the insert can be released (its request
		// failed) before the select reads it; each statement sees the latest
		// commits, so claim again rather than fail.
		for attempt := 0; ; attempt++ {
			tag, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+cols+`) SELECT `+vals+` ON CONFLICT DO NOTHING`,
				tenant, sc.CredentialID, key, requestHash, method, path, time.Now().Add(Retention))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				return nil
			}
			err = tx.QueryRow(ctx, `SELECT request_hash, method, path, state, coalesce(response_status, 0), response_headers, response_body
				FROM `+table+` WHERE `+where, tenant, sc.CredentialID, key).
				Scan(&r.RequestHash, &r.Method, &r.Path, &state, &r.Status, &headers, &r.Body)
			if errors.Is(err, pgx.ErrNoRows) && attempt < 3 {
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		r.Completed = state == "completed"
		if headers != nil {
			if err := json.Unmarshal(headers, &r.Headers); err != nil {
				return err
			}
		}
		existing = &r
		return nil
	})
	return existing, err
}

// Complete stores the response of the request that owns key.
func (s *Store) Complete(ctx context.Context, sc Scope, key string, status int, headers map[string][]string, body []byte) error {
	h, err := json.Marshal(headers)
	if err != nil {
		return err
	}
	return s.scoped(ctx, sc, func(tx pgx.Tx, table, where string, tenant any) error {
		tag, err := tx.Exec(ctx, `UPDATE `+table+` SET state = 'completed', response_status = $4, response_headers = $5, response_body = $6
			WHERE `+where+` AND state = 'in_progress'`, tenant, sc.CredentialID, key, status, h, body)
		if err == nil && tag.RowsAffected() != 1 {
			err = errors.New("idempotency: completing a key that is not in progress")
		}
		return err
	})
}

// Release drops the caller's in-progress claim on key.
func (s *Store) Release(ctx context.Context, sc Scope, key string) error {
	return s.scoped(ctx, sc, func(tx pgx.Tx, table, where string, tenant any) error {
		_, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE `+where+` AND state = 'in_progress'`, tenant, sc.CredentialID, key)
		return err
	})
}

// DeleteExpired removes expired records of one tenant ("" for the
// platform's) and returns how many.
func (s *Store) DeleteExpired(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	err := s.scoped(ctx, Scope{TenantID: tenantID}, func(tx pgx.Tx, table, _ string, tenant any) error {
		q, args := `DELETE FROM `+table+` WHERE expires_at <= now()`, []any{}
		if tenant != nil {
			q, args = q+` AND tenant_id = $1`, append(args, tenant)
		}
		tag, err := tx.Exec(ctx, q, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}
