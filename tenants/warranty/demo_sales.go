package warranty

import (
	"context"
	"fmt"
	"slices"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
)

// DemoSales is what SeedDemoSales made sure exists.
type DemoSales struct {
	StorefrontID string
	Models       int
	Units        int // registered by this call
	Plans        int
	Contracts    int // sold by this call
}

// demoSaleOrder puts the categories protection plans are sold for first, so
// the storefront's share of the demo units (every third) are phones,
// laptops, cameras, tablets and small appliances.
var demoSaleOrder = []string{"phone", "washer", "refrigerator", "laptop", "air_conditioner", "tv", "camera",
	"water_heater", "kitchen", "tablet", "washer", "refrigerator", "small_appliance"}

// demoPlanOrder is the order plans are offered for a demo unit; the first
// that may be sold is.
var demoPlanOrder = []string{string(KindAccidentalDamage), DemoSwapTabletKey, string(KindSwapForRepair),
	string(KindNoReasonRepair), string(KindExtendedWarranty)}

// SeedDemoSales gives the demo brand what the entitlement engine works on,
// through the same services the API uses: the catalog (models, parts, a price
// list), the demo storefront with units it sold and units the brand sold, the
// demo coverage plans, and contracts for the units a plan may still be sold
// for (each sold on the unit's purchase date, by the unit's seller).
// Deterministic and idempotent: a second call registers and sells nothing.
func SeedDemoSales(ctx context.Context, p tenants.Principal, cat *catalog.Service, cus *customers.Service, war *Service) (DemoSales, error) {
	var out DemoSales
	if err := cat.SeedDemo(ctx, p); err != nil {
		return out, fmt.Errorf("demo catalog: %w", err)
	}
	sf, err := cus.SeedDemoStorefront(ctx, p)
	if err != nil {
		return out, fmt.Errorf("demo storefront: %w", err)
	}
	out.StorefrontID = sf
	onSale := false
	models, _, err := cat.ListProductModels(ctx, p, catalog.ProductModelFilter{Discontinued: &onSale, Limit: tenants.MaxPageLimit})
	if err != nil {
		return out, err
	}
	out.Models = len(models)
	var ids []string
	used := map[string]bool{}
	for _, c := range demoSaleOrder {
		for _, m := range models {
			if m.Category == c && !used[m.ID] {
				ids, used[m.ID] = append(ids, m.ID), true
				break
			}
		}
	}
	if out.Units, err = cus.SeedDemoUnits(ctx, p, sf, ids); err != nil {
		return out, fmt.Errorf("demo units: %w", err)
	}
	plans, err := war.SeedDemoPlans(ctx, p)
	if err != nil {
		return out, fmt.Errorf("demo plans: %w", err)
	}
	out.Plans = len(plans)
	planCategories := map[string][]string{}
	for key, id := range plans {
		pl, err := war.GetPlan(ctx, p, id)
		if err != nil {
			return out, err
		}
		planCategories[key] = pl.EligibleCategories
	}

	cursor := ""
	for {
		units, next, err := cus.ListUnits(ctx, p, customers.UnitFilter{Limit: tenants.MaxPageLimit, Cursor: cursor})
		if err != nil {
			return out, err
		}
		for _, u := range units {
			for _, key := range demoPlanOrder {
				if !slices.Contains(planCategories[key], u.Category) {
					continue
				}
				in := NewContract{UnitID: u.ID, PlanID: plans[key], SoldOn: u.PurchaseDate,
					ExternalReference: "DEMO-" + u.Serial + "-" + key}
				if u.StorefrontID != nil {
					in.StorefrontID = *u.StorefrontID
				}
				_, err := war.CreateContract(ctx, p, in)
				switch tenants.ErrorCode(err) {
				case "":
					out.Contracts++
				case tenants.CodeInvalid: // too late to sell this plan for this unit: try the next
					continue
				case tenants.CodeConflict: // sold by an earlier run
				default:
					return out, fmt.Errorf("demo contract for %s: %w", u.Serial, err)
				}
				break
			}
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}
