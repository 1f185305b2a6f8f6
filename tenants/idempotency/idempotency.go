// Package idempotency keeps the records behind the Idempotency-Key header:
// one per (tenant, credential, key), holding a hash of the request, its
// status, headers and body, for 24 hours.
//
// The protocol is one transaction (a pg.Unit): the claim of the key is the
// first statement of the request's business transaction, and the response is
// stored by its last statement before COMMIT. So:
//   - a crash before the commit leaves nothing: no effect and no claim, and
//     the retry runs once;
//   - a crash after the commit leaves the effect and its stored response,
//     which the retry gets replayed;
//   - a concurrent duplicate blocks on the claim's row until the first
//     transaction ends, then gets the replay (or, if the first rolled back,
//     runs itself). It waits at most ClaimWait, then is told the key is in
//     use (409, retry shortly).
//
// No key is ever seen "in progress" after a crash: a claim that is not
// committed together with its response does not exist. Only successful
// responses (below 400) are stored: a refusal changed nothing, so its retry
// runs again and may succeed once the cause is fixed.
package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/servicenet/servicenet/internal/pg"
)

// Retention is how long a record is kept and replayed.
const Retention = 24 * time.Hour

// ClaimWait bounds how long a duplicate waits for the first request holding
// its key before it is told the key is in use.
const ClaimWait = 3 * time.Second

// Scope is whose key it is. An empty TenantID is the platform operator.
type Scope struct {
	TenantID     string
	CredentialID string
}

// Request is one idempotent request: whose key, the key, and a hash of what
// was asked (method, route and canonical body; never the body itself).
type Request struct {
	Scope
	Key, RequestHash, Method, Path string
}

// Record is a stored request outcome.
type Record struct {
	RequestHash string
	Method      string
	Path        string
	Status      int
	Headers     map[string][]string
	Body        []byte
}

// Claim is the outcome of QueueClaim once its batch has run.
type Claim struct {
	// Existing is nil when the transaction now holds the key and must run
	// the request, or the stored outcome of an earlier request with it.
	Existing *Record
}

func (r Request) table() (table, where string, tenant any) {
	if r.TenantID == "" {
		return "platform_idempotency_keys", "$1::text IS NULL AND credential_id = $2 AND key = $3", nil
	}
	return "idempotency_keys", "tenant_id = $1 AND credential_id = $2 AND key = $3", r.TenantID
}

// QueueClaim queues on b, the first statements of the request's transaction,
// the claim of r's key. A live record blocks the claim until the transaction
// that wrote it ends; an expired one is taken over in place. After the batch
// ran, the returned Claim says whether the key is now held. Waiting longer
// than ClaimWait fails the batch with an error for which IsBusy is true.
func QueueClaim(b *pgx.Batch, r Request) *Claim {
	table, where, tenant := r.table()
	cols, vals, conflict := "credential_id, key, request_hash, method, path, expires_at", "$2, $3, $4, $5, $6, now() + make_interval(secs => $7)", "(credential_id, key)"
	if tenant != nil {
		cols, vals, conflict = "tenant_id, "+cols, "$1, "+vals, "(tenant_id, credential_id, key)"
	} else {
		vals += " FROM (SELECT $1::text) AS unused"
	}
	c := &Claim{}
	held := false
	b.Queue(`SET LOCAL lock_timeout = ` + lockTimeout)
	// A row still "in_progress" can only be a claim stranded by the old
	// two-transaction protocol: a claim of this one commits completed.
	b.Queue(`INSERT INTO `+table+` AS k (`+cols+`) SELECT `+vals+`
		ON CONFLICT `+conflict+` DO UPDATE SET request_hash = EXCLUDED.request_hash, method = EXCLUDED.method, path = EXCLUDED.path,
			state = 'in_progress', response_status = NULL, response_headers = NULL, response_body = NULL,
			created_at = now(), expires_at = EXCLUDED.expires_at
		WHERE k.expires_at <= now() OR k.state = 'in_progress'
		RETURNING true`,
		tenant, r.CredentialID, r.Key, r.RequestHash, r.Method, r.Path, Retention.Seconds()).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(&held)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		})
	b.Queue(`SET LOCAL lock_timeout = DEFAULT`)
	// Run in the same round trip; read only when the claim found a record.
	b.Queue(`SELECT request_hash, method, path, coalesce(response_status, 0), response_headers, response_body
		FROM `+table+` WHERE `+where, tenant, r.CredentialID, r.Key).
		QueryRow(func(row pgx.Row) error {
			var rec Record
			var headers []byte
			if err := row.Scan(&rec.RequestHash, &rec.Method, &rec.Path, &rec.Status, &headers, &rec.Body); err != nil {
				return err
			}
			if held {
				return nil
			}
			if headers != nil {
				if err := json.Unmarshal(headers, &rec.Headers); err != nil {
					return err
				}
			}
			c.Existing = &rec
			return nil
		})
	return c
}

// lockTimeout is ClaimWait as a PostgreSQL setting.
var lockTimeout = "'" + ClaimWait.String() + "'"

// IsBusy reports whether err is a claim that waited ClaimWait for the
// request holding its key.
func IsBusy(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03" // lock_not_available
}

// QueueResponse queues on b, the last statements before COMMIT, the response
// of the request that holds r's key.
func QueueResponse(b *pgx.Batch, r Request, status int, headers map[string][]string, body []byte) error {
	h, err := json.Marshal(headers)
	if err != nil {
		return err
	}
	table, where, tenant := r.table()
	b.Queue(`UPDATE `+table+` SET state = 'completed', response_status = $4, response_headers = $5, response_body = $6,
		request_hash = $7
		WHERE `+where, tenant, r.CredentialID, r.Key, status, h, body, r.RequestHash).
		Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != 1 {
				return errors.New("idempotency: storing the response of a key this transaction does not hold")
			}
			return nil
		})
	return nil
}

// Store removes expired records.
type Store struct {
	DB pg.DB
}

// DeleteExpired removes expired records of one tenant ("" for the
// platform's) and returns how many.
func (s *Store) DeleteExpired(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	if tenantID == "" {
		err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `DELETE FROM platform_idempotency_keys WHERE expires_at <= now()`)
			n = tag.RowsAffected()
			return err
		})
		return n, err
	}
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND expires_at <= now()`, tx.TenantID)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}
