// Package idempotency keeps the records behind the Idempotency-Key header:
// one per (tenant, credential, key), holding a hash of the request, its
// status, headers and body, for 24 hours.
//
// The protocol is one transaction (a pg.Unit): the claim of the key (an
// advisory lock on it and the read of a live record) rides the first round
// trip of the request's business transaction, and the record, with the
// response, is written once by its last statement before COMMIT. So:
//   - a crash before the commit leaves nothing: no effect and no claim, and
//     the retry runs once;
//   - a crash after the commit leaves the effect and its stored response,
//     which the retry gets replayed;
//   - a concurrent duplicate blocks on the claim's lock until the first
//     transaction ends, then gets the replay (or, if the first rolled back,
//     runs itself). It waits at most ClaimWait, then is told the key is in
//     use (409, retry shortly);
//   - the record's insert fails the transaction if a live record of the key
//     exists after all (it raises: IsUsed), so exactly-once never rests on
//     the lock.
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
	"strconv"
	"time"

	"github.com/jackc/pgerrcode"
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
	// Disclosed is the personal data its answer showed, read again by
	// every replay (nil: none).
	Disclosed *Disclosed
}

// Disclosed names the objects whose personal data an answer showed
// unmasked, and the operation that showed them: the audit log's read,
// recorded again whenever the answer is replayed. Ids only, never the data.
type Disclosed struct {
	Operation string   `json:"operation"`
	Objects   []string `json:"objects"`
}

// Claim is the outcome of QueueClaim once its statements have run.
type Claim struct {
	// Existing is the stored outcome of an earlier request with the key,
	// or nil when the transaction holds the key and runs the request.
	Existing *Record
	// Busy is set when another request held the key for ClaimWait.
	Busy bool
	// Checked is set once the claim has run (the key is held, or Existing
	// or Busy is set).
	Checked bool
}

// ErrUsed fails the statement that carries a claim (and so the unit it
// rides in) when the key was already used: the request must not run, its
// Existing record is replayed instead.
var ErrUsed = errors.New("idempotency: the key was used by an earlier request")

func (r Request) table() (table, where string, tenant any) {
	if r.TenantID == "" {
		return "platform_idempotency_keys", "$1::text IS NULL AND credential_id = $2 AND key = $3", nil
	}
	return "idempotency_keys", "tenant_id = $1 AND credential_id = $2 AND key = $3", r.TenantID
}

// lockKey names r's key in the transaction-level advisory lock that
// serializes requests with it.
func (r Request) lockKey() string {
	return "idempotency:" + r.TenantID + "/" + r.CredentialID + "/" + r.Key
}

// QueueClaim queues on b, the first statements of the request's
// transaction, the claim of r's key: a transaction-level advisory lock on
// the key (a concurrent duplicate waits for the transaction holding it to
// end, at most ClaimWait: then Busy, and the batch fails with an error for
// which IsBusy is true), then the read of a live record of the key (then
// Existing, and the statement fails with ErrUsed so the request stops).
// An expired record is not live: QueueResponse takes it over.
// sessionLockTimeout is the lock_timeout the connection runs with, in
// milliseconds as PostgreSQL reports it ("" or "0": none): when it is
// ClaimWait already the lock needs no SET LOCAL around it.
//
// Nothing is written here: the record is written once, with the response,
// by QueueResponse, which fails the transaction if the key turns out to be
// used (a safety net that does not rely on the lock).
func QueueClaim(b *pgx.Batch, r Request, sessionLockTimeout string) *Claim {
	table, where, tenant := r.table()
	c := &Claim{}
	bounded := sessionLockTimeout == claimWaitMillis
	if !bounded {
		b.Queue(`SET LOCAL lock_timeout = ` + lockTimeout)
	}
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, r.lockKey()).Fn = func(br pgx.BatchResults) error {
		_, err := br.Exec()
		if IsBusy(err) {
			c.Busy, c.Checked = true, true
		}
		return err
	}
	if !bounded {
		b.Queue(`SET LOCAL lock_timeout = DEFAULT`)
	}
	// By the key alone (the primary key), liveness computed, not filtered
	// on: a filter on expires_at lets the planner scan the expiry index
	// through every live record of the tenant. That index is partial so
	// that this read cannot use it at all (migration 053).
	b.Queue(`SELECT state = 'completed' AND expires_at > now(), request_hash, method, path, coalesce(response_status, 0),
			response_headers, response_body, disclosed
		FROM `+table+` WHERE `+where, tenant, r.CredentialID, r.Key).
		Query(func(rows pgx.Rows) error {
			defer rows.Close()
			c.Checked = true
			if !rows.Next() {
				return rows.Err()
			}
			var rec Record
			var live bool
			var headers []byte
			if err := rows.Scan(&live, &rec.RequestHash, &rec.Method, &rec.Path, &rec.Status, &headers, &rec.Body, &rec.Disclosed); err != nil {
				return err
			}
			if !live { // QueueResponse takes it over
				return nil
			}
			if headers != nil {
				if err := json.Unmarshal(headers, &rec.Headers); err != nil {
					return err
				}
			}
			c.Existing = &rec
			return ErrUsed
		})
	return c
}

// lockTimeout is ClaimWait as a PostgreSQL setting.
var (
	lockTimeout     = "'" + ClaimWait.String() + "'"
	claimWaitMillis = strconv.FormatInt(ClaimWait.Milliseconds(), 10)
)

// IsBusy reports whether err is a claim that waited ClaimWait for the
// request holding its key.
func IsBusy(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03" // lock_not_available
}

// IsUsed reports whether err is a claim or a response refused because the
// key was already used (ErrUsed, or QueueResponse's refusal: the error
// idempotency_key_used raises, migration 047).
func IsUsed(err error) bool {
	if errors.Is(err, ErrUsed) {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgerrcode.UniqueViolation &&
		(pgErr.TableName == "idempotency_keys" && pgErr.ConstraintName == "idempotency_keys_pkey" ||
			pgErr.TableName == "platform_idempotency_keys" && pgErr.ConstraintName == "platform_idempotency_keys_pkey")
}

// QueueResponse queues on b, the last statements before COMMIT, the record
// of the request that claimed r's key: its hash and response, kept for
// Retention. It replaces an expired record (or one stranded "in_progress"
// by the old two-transaction protocol). A live record of the key (one the
// claim did not see: it cannot appear while the claim's lock is held) makes
// the statement raise (idempotency_key_used, IsUsed), which fails the
// transaction: never two effects for one key. One statement, no round trip
// of its own. disclosed is what the answer showed of personal data (nil:
// nothing), for its replays.
func QueueResponse(b *pgx.Batch, r Request, status int, headers map[string][]string, body []byte, disclosed *Disclosed) error {
	h, err := json.Marshal(headers)
	if err != nil {
		return err
	}
	table, _, tenant := r.table()
	cols, vals, conflict := "credential_id, key, request_hash, method, path, state, response_status, response_headers, response_body, expires_at, disclosed",
		"$2, $3, $4, $5, $6, 'completed', $7, $8, $9, now() + make_interval(secs => $10), $11::jsonb", "(credential_id, key)"
	if tenant != nil {
		cols, vals, conflict = "tenant_id, "+cols, "$1, "+vals, "(tenant_id, credential_id, key)"
	} else {
		vals += " FROM (SELECT $1::text) AS unused"
	}
	// EXCLUDED.created_at is the column's default, now(): the DO UPDATE
	// clause calls no function that is not IMMUTABLE (a rule of Citus's).
	b.Queue(`INSERT INTO `+table+` AS k (`+cols+`) SELECT `+vals+`
		ON CONFLICT `+conflict+` DO UPDATE SET request_hash = EXCLUDED.request_hash, method = EXCLUDED.method, path = EXCLUDED.path,
			state = CASE WHEN k.expires_at <= EXCLUDED.created_at OR k.state = 'in_progress' THEN 'completed'
				ELSE idempotency_key_used('`+table+`', k.key) END,
			response_status = EXCLUDED.response_status, response_headers = EXCLUDED.response_headers,
			response_body = EXCLUDED.response_body, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
			disclosed = EXCLUDED.disclosed`,
		tenant, r.CredentialID, r.Key, r.RequestHash, r.Method, r.Path, status, h, body, Retention.Seconds(), disclosed)
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
