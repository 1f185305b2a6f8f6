package pg_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/privacy"
)

// Migration 071 on rows written before it: the product locations visit
// exceptions reported leave the timeline; on the visits of tickets already
// erased they become [erased], on those of tickets masked at rest the
// masked form privacy.MaskAddressLine gives; other tickets' stay. The
// migration is run again here, over such rows (it is idempotent).
func TestMigrationMasksOldVisitLocations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	ten := tenants.NewID(tenants.PrefixTenant)
	_, err := db.App.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, $1, $2)`, ten, "t-"+ten[len(ten)-12:])
	require.NoError(t, err)

	type ticket struct {
		phone, location, want string
	}
	cases := map[string]ticket{}
	add := func(phone, location, want string) {
		cases[tenants.NewID(tenants.PrefixTicket)] = ticket{phone, location, want}
	}
	add(privacy.Erased, "客户父母家，崂山区海尔路8号", privacy.Erased)
	add("+8613900000000", "客户父母家，崂山区海尔路8号", "客户父母家，崂山区海尔路8号")
	for _, loc := range []string{"客户父母家，崂山区海尔路8号", "北京市朝阳区建国路88号", "人民路 9 号", "楼下", "山东省青岛市市南区香港中路1号", "x"} {
		add("139****0000", loc, privacy.MaskAddressLine(loc))
	}
	require.NoError(t, pg.InTenantTx(ctx, db.App, ten, func(tx pg.TenantTx) error {
		cus := tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '李四', ARRAY['+8613900000000'])`, ten, cus); err != nil {
			return err
		}
		for id, c := range cases {
			if _, err := tx.Exec(ctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, contact, address, fault, created_by)
				VALUES ($1, $2, $3, 'hotline', 'repair', 'closed', $4, jsonb_build_object('name', '李*', 'phone', $5::text),
					'{"region_code":"370212","line":"香港中路****"}', '{"symptom":"no_power"}', 'test')`,
				ten, id, "SN-20261129-"+strings.ToUpper(id[len(id)-16:]), cus, c.phone); err != nil {
				return err
			}
			exception := map[string]any{"reason": "product_elsewhere", "product_location": c.location}
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_visits (tenant_id, ticket_id, seq, round, arrived_at, outcome, network_visit, exception, actor)
				VALUES ($1, $2, 1, 0, now(), 'product_elsewhere', false, $3, 'test')`, ten, id, exception); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_timeline (tenant_id, ticket_id, action, from_state, to_state, reason, detail, actor)
				VALUES ($1, $2, 'visit_exception_recorded', 'scheduled', 'assigned', 'product_elsewhere', $3, 'test')`,
				ten, id, map[string]any{"exception": exception, "tasks": nil}); err != nil {
				return err
			}
		}
		return nil
	}))

	sql, err := pg.MigrationFiles.ReadFile("migrations/071_visit_location_personal.sql")
	require.NoError(t, err)
	_, err = db.Owner.Exec(ctx, string(sql))
	require.NoError(t, err)

	require.NoError(t, pg.InTenantTx(ctx, db.App, ten, func(tx pg.TenantTx) error {
		for id, c := range cases {
			var loc string
			var detail map[string]any
			if err := tx.QueryRow(ctx, `SELECT v.exception ->> 'product_location', tl.detail FROM ticket_visits v
				JOIN ticket_timeline tl ON tl.tenant_id = v.tenant_id AND tl.ticket_id = v.ticket_id
				WHERE v.tenant_id = $1 AND v.ticket_id = $2`, ten, id).Scan(&loc, &detail); err != nil {
				return err
			}
			assert.Equal(t, c.want, loc, "phone %s, location %s", c.phone, c.location)
			assert.Equal(t, map[string]any{"exception": map[string]any{"reason": "product_elsewhere"}, "tasks": nil}, detail)
		}
		return nil
	}))
}
