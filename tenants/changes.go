package tenants

import "slices"

// Changes is the list of fields a partial update changes, in the order it
// applied them (the event's and the audit log's "changed"). Every partial
// update (PATCH) of a domain object records its changes here: a service
// locks the object, copies its fields, calls Set once per field of the
// update, validates the result and writes nothing when Changes is empty.
type Changes []string

// Set applies one field's change when ok (the update names the field and
// its value differs) and records the field's name.
func (c *Changes) Set(name string, ok bool, apply func()) {
	if ok {
		apply()
		*c = append(*c, name)
	}
}

// Among returns the changed fields that are among names, in the order they
// were changed (a plan's terms among its changed fields).
func (c Changes) Among(names ...string) Changes {
	var out Changes
	for _, n := range c {
		if slices.Contains(names, n) {
			out = append(out, n)
		}
	}
	return out
}
