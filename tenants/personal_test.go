package tenants_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/servicenet/servicenet/tenants"
)

// Who sees personal data in the clear, by the object's relation: an object
// read StaffOnly (the audit log's entries) is shown to the brand's staff
// alone, never to a key bound to a storefront, node or technician, whatever
// its roles or job.
func TestSeesPersonalData(t *testing.T) {
	t.Parallel()
	job := tenants.Relation{Job: true}
	staffOnly := tenants.Relation{StaffOnly: true}
	for _, c := range []struct {
		name string
		p    tenants.Principal
		r    tenants.Relation
		want bool
	}{
		{"AdminAnyObject", tenants.Principal{Roles: []string{tenants.RoleTenantAdmin}}, tenants.Relation{}, true},
		{"AdminStaffOnly", tenants.Principal{Roles: []string{tenants.RoleTenantAdmin}}, staffOnly, true},
		{"AgentStaffOnly", tenants.Principal{Roles: []string{tenants.RoleAgent}}, staffOnly, true},
		{"AuditorNever", tenants.Principal{Roles: []string{tenants.RoleAuditor}}, job, false},
		{"AuditorStaffOnly", tenants.Principal{Roles: []string{tenants.RoleAuditor}}, staffOnly, false},
		{"StorefrontOwnSale", tenants.Principal{StorefrontID: "sto_1", Roles: []string{tenants.RoleStorefront}}, tenants.Relation{}, true},
		{"StorefrontStaffOnly", tenants.Principal{StorefrontID: "sto_1", Roles: []string{tenants.RoleStorefront}}, staffOnly, false},
		{"TechnicianOpenJob", tenants.Principal{TechnicianID: "tec_1", Roles: []string{tenants.RoleTechnician}}, job, true},
		{"TechnicianStaffOnly", tenants.Principal{TechnicianID: "tec_1", Roles: []string{tenants.RoleTechnician}}, tenants.Relation{Job: true, StaffOnly: true}, false},
		{"NodeKeyWithStaffRoleStaffOnly", tenants.Principal{NodeID: "nod_1", Roles: []string{tenants.RoleAgent}}, staffOnly, false},
	} {
		assert.Equal(t, c.want, c.p.SeesPersonalData(c.r), c.name)
	}
}
