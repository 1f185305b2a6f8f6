package tenants

// Changes is the list of fields a partial update changes, in the order it
// applied them (the event's and the audit log's "changed").
type Changes []string

// Set applies one field's change when ok (the update names the field and
// its value differs) and records the field's name.
func (c *Changes) Set(name string, ok bool, apply func()) {
	if ok {
		apply()
		*c = append(*c, name)
	}
}
