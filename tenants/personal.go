package tenants

// Personal data (a customer's name, phones and addresses; a ticket's
// contact and service address, and the numbers and names in what the
// customer and the technician wrote on it) is shown unmasked only where the job needs
// it (DESIGN.md "Modes, personal data and audit"). The domain says how an
// object relates to the principal that reads it (Relation); the API's
// serializer decides from the principal and that relation whether the
// object is shown as is or masked (SeesPersonalData, Personal.MaskPersonal).

// Relation is how an object holding personal data relates to the principal
// reading it. Objects are only read inside the principal's scope, so a
// storefront key's objects are its own sales; Job is what the domain works
// out for technicians and node keys.
type Relation struct {
	// Job: the object belongs to an open job of the principal (a technician
	// key's own ticket, a node key's subtree's ticket), or one that ended
	// less than the tenant's grace period ago.
	Job bool
	// StaffOnly: the object is read outside the scope a storefront, node or
	// technician key is bound to (the tenant's audit log records every
	// customer's data): only the brand's staff see its personal data.
	StaffOnly bool
}

// Personal is an object with personal data.
type Personal interface {
	// PersonalRelation is the object's relation to the principal it was read for.
	PersonalRelation() Relation
	// MaskPersonal replaces the object's personal data with masked forms.
	MaskPersonal()
	// PersonalID names the object in the audit log of personal data reads;
	// empty when this one holds no personal data (nothing to record).
	PersonalID() string
}

// staffRoles see personal data wherever they see the object: the brand's
// own people and back-office systems, unbound to a node or storefront.
var staffRoles = []string{RoleTenantAdmin, RoleNetworkManager, RoleDispatcher, RoleAgent, RoleIntegrator}

// SeesPersonalData reports whether p sees the personal data of an object in
// its scope that stands in relation r to it: storefront keys (their scope is
// their own sales) and the brand's staff always; technicians and node keys
// for their open jobs (and the grace period after); anyone else (auditors)
// never. An object read StaffOnly is seen by the brand's staff alone.
func (p Principal) SeesPersonalData(r Relation) bool {
	switch {
	case p.Operator:
		return true
	case r.StaffOnly && (p.StorefrontID != "" || p.TechnicianID != "" || p.NodeID != ""):
		return false
	case r.StaffOnly:
	case p.StorefrontID != "":
		return true
	case p.TechnicianID != "" || p.NodeID != "" || p.HasRole(RoleTechnician) || p.HasRole(RoleNodeManager):
		return r.Job
	}
	for _, role := range staffRoles {
		if p.HasRole(role) {
			return true
		}
	}
	return false
}

// NeedsJobRelation reports whether p's view of personal data depends on the
// object's Job relation (so the domain must work it out).
func (p Principal) NeedsJobRelation() bool {
	return p.StorefrontID == "" && (p.TechnicianID != "" || p.NodeID != "" || p.HasRole(RoleTechnician) || p.HasRole(RoleNodeManager))
}
