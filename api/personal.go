package api

import (
	"context"
	"reflect"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/idempotency"
)

// Need-to-know is applied here, once, for every operation (register): the
// response body is walked for objects with personal data (tenants.Personal)
// and each is masked unless the principal sees personal data in the
// object's relation to it. Handlers never mask. Every operation that showed
// unmasked personal data records the read in the audit log, whatever its
// method: a write's answer shows it too (POST /v1/customers answers the
// customer a phone already belongs to).

var personalType = reflect.TypeFor[tenants.Personal]()

// mayHold caches, per type, whether a value of it can contain a Personal.
var mayHold sync.Map // reflect.Type -> bool

func holdsPersonal(t reflect.Type) bool {
	if v, ok := mayHold.Load(t); ok {
		return v.(bool)
	}
	mayHold.Store(t, false) // recursive types: assume not while looking
	h := false
	switch {
	case reflect.PointerTo(t).Implements(personalType) || t.Implements(personalType):
		h = true
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		h = holdsPersonal(t.Elem())
	case t.Kind() == reflect.Struct:
		for f := range t.Fields() {
			if f.IsExported() && holdsPersonal(f.Type) {
				h = true
				break
			}
		}
	}
	mayHold.Store(t, h)
	return h
}

// disclose masks what p may not see in out (a pointer to an operation's
// output struct) and returns the ids of the objects shown unmasked.
func disclose(p tenants.Principal, out any) []string {
	v := reflect.ValueOf(out)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return nil
	}
	var shown []string
	walkPersonal(p, v.Elem(), &shown)
	return shown
}

func walkPersonal(p tenants.Principal, v reflect.Value, shown *[]string) {
	if !holdsPersonal(v.Type()) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkPersonal(p, v.Elem(), shown)
		}
		return
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkPersonal(p, v.Index(i), shown)
		}
		return
	}
	if v.CanAddr() {
		if o, ok := v.Addr().Interface().(tenants.Personal); ok {
			if p.SeesPersonalData(o.PersonalRelation()) {
				if id := o.PersonalID(); id != "" {
					*shown = append(*shown, id)
				}
			} else {
				o.MaskPersonal()
			}
			return
		}
	}
	if v.Kind() == reflect.Struct {
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkPersonal(p, v.Field(i), shown)
			}
		}
	}
}

// recordRead records in the audit log a's read of the objects shown. A
// request with an Idempotency-Key still has its transaction open (the
// middleware commits it with the stored response): the record rides its
// COMMIT, so the write, its answer and the read commit together, and the
// answer stored for replays names what it disclosed. Any other
// request's record is a transaction of its own (a GET's, or a write's that
// committed).
func (s *Server) recordRead(ctx context.Context, tenantID string, a pg.Actor, operation string, shown []string) error {
	if len(shown) == 0 {
		return nil
	}
	r := audit.Read{Operation: operation, Action: "read", ObjectIDs: shown}
	if k, _ := ctx.Value(keyedKey{}).(*keyed); k != nil && k.unit.Begun() {
		k.disclosed = &idempotency.Disclosed{Operation: operation, Objects: shown}
		return pg.InTenantTx(ctx, s.deps.DB, tenantID, func(tx pg.TenantTx) error {
			b := &pgx.Batch{}
			audit.QueueRead(b, tx.TenantID, a, r)
			return tx.Defer(ctx, b)
		})
	}
	return s.deps.Audit.Record(ctx, tenantID, a, r)
}

// actor is who the request's writes are recorded as in the audit log.
func actor(ctx context.Context, p tenants.Principal, operationID string) pg.Actor {
	a := pg.Actor{Key: p.Subject(), Roles: p.Roles, Operation: operationID, RequestID: logging.Get(ctx, "request_id")}
	switch {
	case p.TechnicianID != "":
		a.OnBehalfOf = p.TechnicianID
	case p.StorefrontID != "":
		a.OnBehalfOf = p.StorefrontID
	case p.NodeID != "":
		a.OnBehalfOf = p.NodeID
	}
	return a
}
