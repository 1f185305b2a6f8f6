package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// DemoBrand is a tenant seeded the way `make run` seeds the demo brand (the
// demo network imported, catalog, price list, plans and sales), with an
// on-sale washer model and a district a washer-repairing repair point
// covers.
type DemoBrand struct {
	Tenant
	Washer string
	Region string
	// LiveAdminKey is the tenant's live admin key (TestModeDemoBrand; in
	// DemoBrand it is AdminKey).
	LiveAdminKey string
}

// DemoBrand seeds a DemoBrand under slug. The demo's technicians are spread
// over skills, shifts and licences, and its nodes are listed in id (ULID)
// order, which differs from run to run; so every node that covers Region
// gets one technician who can take any washer repair any day, and dispatch
// there always has someone to propose.
func (e *Env) DemoBrand(t testing.TB, slug string) DemoBrand {
	t.Helper()
	d := DemoBrand{Tenant: e.CreateTenant(t, slug)}
	d.LiveAdminKey = d.AdminKey
	return e.seedDemo(t, pg.WithLivemode(context.Background(), true), d, true)
}

// TestModeDemoBrand is DemoBrand seeded in test mode: AdminKey and AdminID
// are an sn_test_ tenant_admin key (issued with the tenant's live admin
// key), and every seeded object is test data.
func (e *Env) TestModeDemoBrand(t testing.TB, slug string) DemoBrand {
	t.Helper()
	ten := e.CreateTenant(t, slug)
	r := e.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey, map[string]any{"name": "test admin",
		"roles": []string{"tenant_admin"}, "environment": "test"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	m := r.JSON(t)
	d := DemoBrand{Tenant: Tenant{ID: ten.ID, AdminKey: m["secret"].(string), AdminID: m["id"].(string)}, LiveAdminKey: ten.AdminKey}
	return e.seedDemo(t, pg.WithLivemode(context.Background(), false), d, false)
}

func (e *Env) seedDemo(t testing.TB, ctx context.Context, d DemoBrand, live bool) DemoBrand {
	t.Helper()
	p := tenants.Principal{TenantID: d.ID, KeyID: d.AdminID, Live: live}
	im, err := e.Network.CreateImport(ctx, p, network.FormatJSONL, network.DemoNetwork(1))
	require.NoError(t, err)
	im, err = e.Network.RunImport(ctx, d.ID, im.ID)
	require.NoError(t, err)
	require.Equal(t, network.ImportSucceeded, im.State, "%v", im.Errors)
	_, err = warranty.SeedDemoSales(ctx, p, e.Catalog, e.Customers, e.Warranty)
	require.NoError(t, err)

	r := e.Do(t, http.MethodGet, "/v1/catalog/models?category=washer&discontinued=false&limit=1", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	models := r.JSON(t)["data"].([]any)
	require.NotEmpty(t, models)
	d.Washer = models[0].(map[string]any)["id"].(string)

	r = e.Do(t, http.MethodGet, "/v1/network/nodes?tier=repair_point&limit=200", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, n := range r.JSON(t)["data"].([]any) {
		n := n.(map[string]any)
		if n["status"] == "active" && slices.Contains(n["categories"].([]any), any("washer")) &&
			slices.Contains(n["service_kinds"].([]any), any("repair")) {
			d.Region = n["coverage"].([]any)[0].(string)
			break
		}
	}
	require.NotEmpty(t, d.Region)

	r = e.Do(t, http.MethodGet, "/v1/network/coverage?region_code="+d.Region+"&category=washer&service_kind=repair&limit=10", d.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var shifts []map[string]any
	for wd := 1; wd <= 7; wd++ {
		shifts = append(shifts, map[string]any{"weekday": wd, "start": "07:00", "end": "21:00"})
	}
	for i, n := range r.JSON(t)["data"].([]any) {
		r := e.Do(t, http.MethodPost, "/v1/network/technicians", d.AdminKey, map[string]any{
			"external_code": fmt.Sprintf("TKT-TECH-%d", i), "node_id": n.(map[string]any)["id"], "name": fmt.Sprintf("测试师傅%d", i),
			"phone": fmt.Sprintf("+86 136 0000 %04d", i), "skills": []map[string]any{{"category": "washer", "level": 5}},
			"licence": map[string]any{"number": fmt.Sprintf("LIC-TKT-%d", i), "issued_on": "2024-01-01", "expires_on": "2099-12-31"},
			"shifts":  shifts, "daily_job_limit": 30})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	}
	return d
}

// WeekdayMorning is 10:00 Shanghai time on the first Monday-Friday at
// least days days after from: inside every demo weekday shift.
func WeekdayMorning(from time.Time, days int) time.Time {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	d := from.In(loc).AddDate(0, 0, days)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, loc)
}

// InShift is the start of the first two-hour visit window, from start on
// (start's day, then up to 13 days after), inside one of technician
// techID's shifts and starting at least 30 minutes into it: start itself
// when that fits. The demo network gives each technician one of four shift
// patterns, and two of them lack some weekday mornings (only Thursday
// 13:00-17:30 fits all four), so a visit agreed with a dispatched demo
// technician takes its window from InShift, not from WeekdayMorning alone:
// the test then passes whatever day it runs.
func (e *Env) InShift(t testing.TB, adminKey, techID string, start time.Time) time.Time {
	t.Helper()
	r := e.Do(t, http.MethodGet, "/v1/network/technicians/"+techID, adminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var tech struct {
		Shifts []network.Shift `json:"shifts"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &tech))
	require.NotEmpty(t, tech.Shifts, "technician %s has no shifts", techID)
	for day := range 14 {
		d := start.AddDate(0, 0, day)
		iso := int(d.Weekday())
		if iso == 0 {
			iso = 7
		}
		for _, sh := range tech.Shifts {
			if sh.Weekday != iso {
				continue
			}
			from, err1 := time.ParseInLocation("15:04", sh.Start, d.Location())
			to, err2 := time.ParseInLocation("15:04", sh.End, d.Location())
			require.NoError(t, err1)
			require.NoError(t, err2)
			s := time.Date(d.Year(), d.Month(), d.Day(), from.Hour(), from.Minute(), 0, 0, d.Location()).Add(30 * time.Minute)
			if day == 0 && s.Before(start) {
				s = start
			}
			if end := time.Date(d.Year(), d.Month(), d.Day(), to.Hour(), to.Minute(), 0, 0, d.Location()); !s.Add(2 * time.Hour).After(end) {
				return s
			}
		}
	}
	t.Fatalf("technician %s has no two-hour window in its shifts within 14 days of %s", techID, start)
	return start
}
