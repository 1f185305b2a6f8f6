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

// Migration 071 on verification items written before it: the problem of a
// phone that is no phone number names the field instead of the number, on
// the ticket, on its timeline and in the audit log's record of the ticket.
func TestMigrationDropsThePhoneFromVerification(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	ten, id := tenants.NewID(tenants.PrefixTenant), tenants.NewID(tenants.PrefixTicket)
	_, err := db.App.Exec(ctx, `INSERT INTO tenants (id, name, slug) VALUES ($1, $1, $2)`, ten, "t-"+ten[len(ten)-12:])
	require.NoError(t, err)
	const old = "the phone number 1395555012 is not a valid phone number (a mainland mobile, a landline with its area code, or +country code and number): verify it with the dispatcher or information officer who sent the job, else with the customer"
	const now = "contact.phone is not a valid phone number (a mainland mobile, a landline with its area code, or +country code and number): verify it with the dispatcher or information officer who sent the job, else with the customer"
	items := func(problem string) []map[string]any {
		return []map[string]any{{"field": "contact.phone", "problem": problem},
			{"field": "unit.serial", "problem": "no serial number: ask for the serial on the rating plate"}}
	}
	require.NoError(t, pg.InTenantTx(ctx, db.App, ten, func(tx pg.TenantTx) error {
		cus := tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '李四', ARRAY['+8613900000000'])`, ten, cus); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, contact, address, fault, verification, created_by)
			VALUES ($1, $2, $3, 'hotline', 'repair', 'needs_info', $4, '{"name":"李四","phone":"1395555012"}',
				'{"region_code":"370212","line":"香港中路 1 号"}', '{"symptom":"no_power"}', $5, 'test')`,
			ten, id, "SN-20261129-"+strings.ToUpper(id[len(id)-16:]), cus, items(old)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ticket_timeline (tenant_id, ticket_id, action, from_state, to_state, reason, detail, actor)
			VALUES ($1, $2, 'opened', NULL, 'needs_info', 'verify: contact.phone, unit.serial', $3, 'test')`,
			ten, id, map[string]any{"verification": items(old)})
		return err
	}))

	sql, err := pg.MigrationFiles.ReadFile("migrations/071_visit_location_personal.sql")
	require.NoError(t, err)
	_, err = db.Owner.Exec(ctx, string(sql))
	require.NoError(t, err)

	require.NoError(t, pg.InTenantTx(ctx, db.App, ten, func(tx pg.TenantTx) error {
		var ticket, timeline []map[string]any
		var audit string
		if err := tx.QueryRow(ctx, `SELECT t.verification, tl.detail -> 'verification',
				(SELECT string_agg(audit_entry_changes(a.changes, a.created_row)::text, ' ') FROM audit_log a
				  WHERE a.tenant_id = t.tenant_id AND a.object_type = 'tickets' AND a.object_id = t.id)
			FROM tickets t JOIN ticket_timeline tl ON tl.tenant_id = t.tenant_id AND tl.ticket_id = t.id
			WHERE t.tenant_id = $1 AND t.id = $2`, ten, id).Scan(&ticket, &timeline, &audit); err != nil {
			return err
		}
		want := []map[string]any{{"field": "contact.phone", "problem": now},
			{"field": "unit.serial", "problem": "no serial number: ask for the serial on the rating plate"}}
		assert.Equal(t, want, ticket)
		assert.Equal(t, want, timeline)
		assert.Contains(t, audit, "contact.phone is not a valid phone number", "the ticket's creation is audited")
		assert.NotContains(t, audit, "the phone number 1395555012")
		return nil
	}))
}
