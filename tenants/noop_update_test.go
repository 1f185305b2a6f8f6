package tenants_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// TestUpdateWithTheCurrentValuesChangesNothing: a PATCH that sends fields
// with the values they have (a client saving a form unchanged) is no
// change (tenants.Changes): the version, so the ETag, stays. Failed before
// for the node's, the technician's, the product model's key parts and
// specs, the plan's, and the customer's addresses, which counted as
// changed whenever they were sent.
func TestUpdateWithTheCurrentValuesChangesNothing(t *testing.T) {
	e := domaintest.New(t)
	root, err := e.Network.CreateNode(e.Ctx, e.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "MFR", Name: "总部"},
		Tier: network.TierManufacturer, Status: "active"})
	require.NoError(t, err)
	n, err := e.Network.CreateNode(e.Ctx, e.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SC-QD", Name: "青岛服务中心",
		Grade: "B", Address: network.Address{RegionCode: "370212", Line: "海尔路1号"}, Coverage: []string{"370200"},
		Categories: []string{"washer"}, ServiceKinds: []string{"repair"}, DailyCapacity: 10, Location: &network.Point{Latitude: 36.1, Longitude: 120.4}},
		Tier: network.TierServiceCenter, ParentID: root.ID, Status: "active"})
	require.NoError(t, err)
	got, err := e.Network.UpdateNode(e.Ctx, e.Admin, n.ID, network.NodeUpdate{ExternalCode: &n.ExternalCode, Name: &n.Name, Grade: n.Grade,
		Contact: &n.Contact, Address: &n.Address, Location: &network.Point{Latitude: 36.1, Longitude: 120.4}, Coverage: &n.Coverage,
		Categories: &n.Categories, ServiceKinds: &n.ServiceKinds, DailyCapacity: &n.DailyCapacity}, n.Version)
	require.NoError(t, err)
	assert.Equal(t, n.Version, got.Version, "node")

	tech, err := e.Network.CreateTechnician(e.Ctx, e.Admin, network.NewTechnician{ExternalCode: "T-1", NodeID: n.ID, Name: "李师傅",
		Phone: "+86 138 0532 0000", Skills: []network.Skill{{Category: "washer", Level: 4}},
		Shifts: []network.Shift{{Weekday: 1, Start: "08:00", End: "18:00"}}})
	require.NoError(t, err)
	status := string(tech.Status)
	gotT, err := e.Network.UpdateTechnician(e.Ctx, e.Admin, tech.ID, network.TechnicianUpdate{ExternalCode: &tech.ExternalCode, Name: &tech.Name,
		Status: &status, Skills: &tech.Skills, Shifts: &tech.Shifts, DailyJobLimit: &tech.DailyJobLimit}, tech.Version)
	require.NoError(t, err)
	assert.Equal(t, tech.Version, gotT.Version, "technician")

	m, err := e.Catalog.CreateProductModel(e.Ctx, e.Admin, catalog.NewProductModel{ModelNumber: "XQG100", Category: "washer",
		Name: "Model XQG100", RetailPrice: domaintest.CNY(399900), WarrantyMonths: 12, Specs: catalog.Specs{"capacity_kg": "10"}})
	require.NoError(t, err)
	gotM, err := e.Catalog.UpdateProductModel(e.Ctx, e.Admin, m.ID, catalog.ProductModelUpdate{Name: &m.Name, KeyParts: &m.KeyParts,
		Specs: &m.Specs}, m.Version)
	require.NoError(t, err)
	assert.Equal(t, m.Version, gotM.Version, "product model")

	p, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"washer"}, DurationMonths: 24, Price: domaintest.CNY(19900)})
	require.NoError(t, err)
	gotP, err := e.Warranty.UpdatePlan(e.Ctx, e.Admin, p.ID, warranty.PlanUpdate{Name: &p.Name, Price: &p.Price,
		EligibleCategories: &p.EligibleCategories, DurationMonths: &p.DurationMonths, Exclusions: &p.Exclusions}, p.Version)
	require.NoError(t, err)
	assert.Equal(t, p.Version, gotP.Version, "coverage plan")

	c, _, err := e.Customers.CreateCustomer(e.Ctx, e.Admin, customers.NewCustomer{Name: "王丽", Phones: []string{"13900139000"},
		Addresses: []customers.CustomerAddress{{RegionCode: "370212", Line: "海尔路1号"}}})
	require.NoError(t, err)
	gotC, err := e.Customers.UpdateCustomer(e.Ctx, e.Admin, c.ID, customers.CustomerUpdate{Addresses: &c.Addresses}, c.Version)
	require.NoError(t, err)
	assert.Equal(t, c.Version, gotC.Version, "customer")

	// A real change still counts.
	name := "青岛市南服务中心"
	got, err = e.Network.UpdateNode(e.Ctx, e.Admin, n.ID, network.NodeUpdate{Name: &name, Coverage: &n.Coverage}, n.Version)
	require.NoError(t, err)
	require.Equal(t, n.Version+1, got.Version)
}
