package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/warranty"
)

type decideOutput struct {
	Body warranty.Entitlement
}

func (s *Server) registerEntitlements() {
	register(s, authz.EntitlementsDecide, huma.Operation{
		OperationID: "decideEntitlement", Method: http.MethodPost, Path: "/v1/entitlements/decide",
		Summary: "Decide who pays for a fault", Tags: []string{"Entitlements"},
		Description: "Runs the entitlement engine for a registered unit, a fault and a service date: the statutory " +
			"three guarantees (7-day return, 15-day exchange, free repair in warranty, exchange after two failed " +
			"warranty repairs), the manufacturer warranty with longer key-part terms, software tuning after " +
			"installation, the unit's contracts (extended warranty, accidental damage, swap instead of repair, " +
			"no-reason repair), the service promises and returns with freight. The answer gives the basis, every " +
			"allowed remedy with its fee, each charge line split between customer, brand and plan, compensation owed " +
			"with its due date, and a trace of every rule considered and why it did or did not apply.\n\n" +
			"The work is priced by a stored quote (`quote_id`, which keeps its price list version) or, for a preview, " +
			"by `work` priced with the version in effect on the date. `warranty_card_charge` is what the customer's " +
			"warranty card says this work costs: the lower of it and the price list applies. Nothing is written. " +
			"A unit that does not exist, is another tenant's or (for a storefront key) was not sold by the " +
			"storefront answers 404.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}, MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *struct{ Body warranty.DecideRequest }) (*decideOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		e, err := s.deps.Warranty.Decide(ctx, p, in.Body)
		if err != nil {
			return nil, err
		}
		return &decideOutput{Body: e}, nil
	})
}
