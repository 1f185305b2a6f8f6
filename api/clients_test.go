package api_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/servicenet/servicenet/internal/apitest"

	servicenet "github.com/servicenet/servicenet/openapi/clients/go"
)

// storefrontDay is a brand with what a storefront's day needs: a phone
// model and its screen, a price list, an accidental-damage plan, and a
// storefront with its key.
type storefrontDay struct {
	phoneShop
	region string
}

func newStorefrontDay(t *testing.T, env *apitest.Env, slug string) storefrontDay {
	s := storefrontDay{phoneShop: newPhoneShop(t, env, slug), region: "310101"}
	r := env.Do(t, http.MethodPut, "/v1/claims/policy", s.admin, map[string]any{"auto_approve_limit": cnyBody(0),
		"duplicate_window_days": 30, "parts_markup_cap_percent": 20})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return s
}

// TestGoClientStorefrontDay runs a storefront's day with the generated Go
// client (openapi/clients/go) against a real server: register a unit, sell
// a plan, file a claim with its own reference, read the claim's
// adjudication from the event feed as a typed event, and open a ticket.
func TestGoClientStorefrontDay(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	s := newStorefrontDay(t, env, "go-client-day")
	ctx := context.Background()
	c, err := servicenet.NewClientWithResponses(env.Server.URL, servicenet.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+s.shopA)
		return nil
	}))
	require.NoError(t, err)
	date := func(daysAgo int) openapi_types.Date {
		d, err := time.Parse(time.DateOnly, shanghaiToday(-daysAgo))
		require.NoError(t, err)
		return openapi_types.Date{Time: d}
	}
	cny := func(fen int64) servicenet.Money { return servicenet.Money{Amount: fen, Currency: "CNY"} }
	str := func(s string) *string { return &s }

	unit, err := c.RegisterUnitWithResponse(ctx, nil, servicenet.NewUnit{ModelId: s.phone, Serial: "SN-GO-0001",
		Customer:     &servicenet.NewCustomer{Name: "赵六", Phones: []string{"+86 138 0000 0001"}},
		PurchaseDate: date(39), PurchasePrice: cny(499900), InvoiceNumber: str("FP-GO-0001")})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, unit.StatusCode(), "%s", unit.Body)
	require.Equal(t, s.phone, unit.JSON201.ModelId)

	sold, err := c.CreateContractWithResponse(ctx, nil, servicenet.NewContract{UnitId: unit.JSON201.Id, PlanId: s.plan,
		SoldOn: ptrTo(date(39)), ExternalReference: str("TM-GO-0001")})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, sold.StatusCode(), "%s", sold.Body)
	require.Equal(t, servicenet.ContractStateActive, sold.JSON201.State, "day 40: the plan runs")

	claim, err := c.SubmitClaimWithResponse(ctx, nil, servicenet.NewClaim{Kind: servicenet.ClaimKindAccidentalDamage,
		UnitId: unit.JSON201.Id, ContractId: &sold.JSON201.Id, Reference: "TM-CLM-GO-1",
		Fault:      servicenet.ClaimFault{Cause: servicenet.FaultCauseAccidentalDamage, PartCategories: &[]string{"screen"}, Description: str("跌落碎屏")},
		OccurredOn: date(0), Total: ptrTo(cny(128000)),
		Lines: []servicenet.NewClaimLine{
			{Kind: servicenet.ClaimLineKindLabor, Description: str("换屏工时"), Requested: cny(8000)},
			{Kind: servicenet.ClaimLineKindPart, PartId: &s.screen, Quantity: ptrTo(int64(1)), Requested: cny(120000)},
		}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, claim.StatusCode(), "%s", claim.Body)
	require.Equal(t, "TM-CLM-GO-1", claim.JSON201.Reference)

	// Adjudication decides; the storefront reads it from its feed
	// as a typed event.
	var adjudicated servicenet.ClaimUnderReviewEvent
	require.Eventually(t, func() bool {
		page, err := c.ListEventsWithResponse(ctx, &servicenet.ListEventsParams{Type: &[]string{"claim.*"}})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, page.StatusCode(), "%s", page.Body)
		for _, e := range page.JSON200.Data {
			v, err := e.ValueByDiscriminator()
			require.NoError(t, err, "every event in the feed is one the catalog declares")
			if ev, ok := v.(servicenet.ClaimUnderReviewEvent); ok && ev.SubjectId == claim.JSON201.Id {
				adjudicated = ev
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, "under_review", adjudicated.Data.ToState)
	require.Equal(t, "TM-CLM-GO-1", *adjudicated.Data.Reference)

	tk, err := c.OpenTicketWithResponse(ctx, nil, servicenet.NewTicket{Channel: servicenet.TicketChannelWeb, Type: servicenet.TicketTypeRepair,
		ExternalReference: str("TM-TKT-GO-1"),
		Contact:           servicenet.TicketContact{Name: "赵六", Phone: str("+86 138 0000 0001")},
		Address:           servicenet.ServiceAddress{RegionCode: &s.region, Line: "中山路 9 号"},
		Unit:              servicenet.UnitDetails{UnitId: &unit.JSON201.Id},
		Fault:             servicenet.ReportedFault{Symptom: str("屏幕碎裂")}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, tk.StatusCode(), "%s", tk.Body)
	require.Equal(t, servicenet.TicketChannelStorefront, tk.JSON201.Channel, "a storefront key always opens storefront tickets")
	require.NotEmpty(t, tk.JSON201.Number)
}

func ptrTo[T any](v T) *T { return &v }

// TestTypeScriptClientStorefrontDay runs the same day with the generated
// TypeScript client (openapi/clients/ts, openapi-fetch): it compiles the
// client and storefront-day.ts with tsc and runs it with node against a
// real server. It needs the npm tools `make lint-spec` installs into .tools/.
func TestTypeScriptClientStorefrontDay(t *testing.T) {
	t.Parallel()
	tools, err := filepath.Abs("../.tools/node_modules")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(tools, ".bin", "tsc")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the TypeScript tools are not installed in .tools/ (make tools): %v", err)
		}
		t.Skip("the TypeScript tools are not installed in .tools/ (make tools)")
	}
	node, err := exec.LookPath("node")
	require.NoError(t, err)
	out := t.TempDir()
	tsc := exec.Command(filepath.Join(tools, ".bin", "tsc"), "-p", "../openapi/clients/ts", "--outDir", out)
	b, err := tsc.CombinedOutput()
	require.NoError(t, err, "tsc: %s", b)

	env := apitest.Shared(t)
	s := newStorefrontDay(t, env, "ts-client-day")
	run := exec.Command(node, filepath.Join(out, "storefront-day.js"))
	run.Env = append(os.Environ(), "NODE_PATH="+tools, "SERVICENET_URL="+env.Server.URL, "SERVICENET_KEY="+s.shopA,
		"PHONE_MODEL_ID="+s.phone, "SCREEN_PART_ID="+s.screen, "PLAN_ID="+s.plan, "REGION_CODE="+s.region,
		"TODAY="+shanghaiToday(0), "PURCHASED_ON="+shanghaiToday(-39))
	b, err = run.CombinedOutput()
	require.NoError(t, err, "storefront-day.js: %s", b)
	require.Contains(t, string(b), "storefront day done")
}

// TestPublishedDocumentsServed: the server serves the published documents
// (the ones the clients are generated from), the 3.0 one without webhooks.
func TestPublishedDocumentsServed(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	r := env.Do(t, http.MethodGet, "/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	doc := r.JSON(t)
	require.Contains(t, doc, "webhooks")
	require.Contains(t, doc["components"].(map[string]any)["schemas"], "ProductCategory")
	r = env.Do(t, http.MethodGet, "/openapi-3.0.yaml", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, string(r.Body), "\nwebhooks:")
	require.Contains(t, string(r.Body), "openapi: 3.0.3")
}
