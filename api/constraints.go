package api

import (
	"errors"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

// constraintFields is api's table from a database constraint to the input
// field it guards, named as the domain names it (relative to the service's
// input; pg.Translate keeps the violated constraint's name on the
// *tenants.Error). Each operation's locator then places that field in its
// own request (body, path or query: register.go), so where a violation
// points is decided per operation. The field's message is the catalog's
// constraint.<name>. A constraint not listed is answered without a field
// (a unique violation) or at the body (a foreign-key or check violation).
var constraintFields = map[string]string{
	"api_keys_node_fkey":                             "node_id",
	"api_keys_storefront_fkey":                       "storefront_id",
	"api_keys_technician_fkey":                       "technician_id",
	"claims_submitter_reference_key":                 "reference",
	"complaints_subject_check":                       "ticket_id",
	"contracts_seller_reference_key":                 "external_reference",
	"contracts_tenant_id_storefront_id_fkey":         "storefront_id",
	"coverage_plans_tenant_id_code_key":              "code",
	"customer_phones_pkey":                           "phones",
	"loaners_tenant_id_model_id_fkey":                "model_id",
	"loaners_tenant_id_serial_key":                   "serial",
	"nodes_one_root_idx":                             "tier",
	"nodes_tenant_id_external_code_key":              "external_code",
	"notification_gateways_channel_key":              "channel",
	"part_models_tenant_id_model_id_fkey":            "compatible_model_ids",
	"part_stock_on_hand_check":                       "lines",
	"parts_tenant_id_part_number_key":                "part_number",
	"payouts_tenant_id_contract_id_fkey":             "contract_id",
	"payouts_tenant_id_unit_id_fkey":                 "unit_id",
	"price_list_parts_tenant_id_part_id_fkey":        "parts",
	"price_lists_tenant_id_effective_from_key":       "effective_from",
	"product_models_tenant_id_model_number_key":      "model_number",
	"service_records_reference_idx":                  "reference",
	"storefronts_tenant_id_code_key":                 "code",
	"swaps_open_unit_key":                            "unit_id",
	"technicians_check":                              "licence.expires_on",
	"technicians_tenant_id_external_code_key":        "external_code",
	"technicians_tenant_id_node_id_fkey":             "node_id",
	"tenants_slug_key":                               "slug",
	"tickets_storefront_reference_key":               "external_reference",
	"tickets_technician_booking_excl":                "window",
	"units_check":                                    "installed_on",
	"units_storefront_channel":                       "channel",
	"units_tenant_id_customer_id_fkey":               "customer_id",
	"units_tenant_id_model_id_fkey":                  "model_id",
	"units_tenant_id_model_id_serial_key":            "serial",
	"units_tenant_id_storefront_id_fkey":             "storefront_id",
	"webhook_endpoints_tenant_id_storefront_id_fkey": "storefront_id",
}

// constraintField replaces the fields of a constraint violation the table
// knows by the one field it guards, relative to the service's input (the
// operation's locator places it), with the catalog's message. A
// *tenants.Error is copied, never changed.
func constraintField(err error) error {
	var te *tenants.Error
	if !errors.As(err, &te) || te.Constraint == "" {
		return err
	}
	field, ok := constraintFields[te.Constraint]
	if !ok {
		return err
	}
	m := i18n.M("constraint." + te.Constraint)
	out := *te
	out.Fields = []tenants.FieldError{{Location: field, Message: m.Render(i18n.English), Msg: &m}}
	return &out
}
