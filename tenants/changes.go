package tenants

import (
	"reflect"
	"slices"
)

// Changes is the list of fields a partial update changes, in the order it
// applied them (the event's and the audit log's "changed"). Every partial
// update (PATCH) of a domain object records its changes here: a service
// locks the object, copies its fields, calls Set once per field of the
// update, validates the result and writes nothing when Changes is empty.
type Changes []string

// Set applies one field's change when ok (the update names the field and
// its value differs: Differs, DiffersPtr) and records the field's name. A
// field sent with the value it has is no change: an update that changes
// nothing keeps the object's version (its ETag) and appends no event.
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

// Differs reports whether an update's field to (nil: not sent) changes the
// value cur, comparing values (reflect.DeepEqual), not pointers.
func Differs[T any](to *T, cur T) bool { return to != nil && !reflect.DeepEqual(*to, cur) }

// DiffersPtr is Differs for an optional field whose current value cur may
// be absent (nil): sending a value for an absent one is a change.
func DiffersPtr[T any](to, cur *T) bool {
	return to != nil && (cur == nil || !reflect.DeepEqual(*to, *cur))
}
