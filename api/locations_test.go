package api

import (
	"reflect"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
)

type locatorParams struct {
	TicketID string `path:"ticket_id"`
}

type locatorInput struct {
	locatorParams
	State   []string `query:"state,explode"`
	Cursor  string   `query:"cursor"`
	IfMatch string   `header:"If-Match"`
	Body    struct {
		Contact struct {
			Phone string `json:"phone"`
		} `json:"contact"`
		Lines []struct {
			PartID string `json:"part_id"`
		} `json:"lines"`
	}
}

func TestLocatorPlacesDomainLocations(t *testing.T) {
	t.Parallel()
	l := newLocator(reflect.TypeFor[locatorInput](), &huma.Operation{OperationID: "x",
		Metadata: map[string]any{locationsKey: map[string]string{"id": "path.ticket_id"}}})
	for domain, wire := range map[string]string{
		"contact.phone":          "body.contact.phone",
		"lines[2].part_id":       "body.lines[2].part_id",
		"cursor":                 "query.cursor",
		"state":                  "query.state",
		"ticket_id":              "path.ticket_id",
		"id":                     "path.ticket_id",
		"":                       "body",
		"body":                   "body",
		"header.Idempotency-Key": "header.Idempotency-Key", // written by the api layer: stays
		"query.since":            "query.since",
		"stateful":               "body.stateful", // a parameter's name is a whole segment
	} {
		require.Equal(t, wire, l.wireLocation(domain), domain)
	}

	shared := tenants.Invalid("contact.phone", "a phone number", "x")
	got := l.wire(shared)
	var te *tenants.Error
	require.ErrorAs(t, got, &te)
	require.Equal(t, "body.contact.phone", te.Fields[0].Location)
	require.Equal(t, "contact.phone", shared.Fields[0].Location, "the domain's error is not changed")
}

func TestLocatorRefusesAmbiguousNames(t *testing.T) {
	t.Parallel()
	type in struct {
		Cursor string `query:"cursor"`
		Body   struct {
			Cursor string `json:"cursor"`
		}
	}
	require.Panics(t, func() { newLocator(reflect.TypeFor[in](), &huma.Operation{OperationID: "x"}) })
	require.NotPanics(t, func() {
		newLocator(reflect.TypeFor[in](), &huma.Operation{OperationID: "x", Metadata: map[string]any{locationsKey: map[string]string{"cursor": "query.cursor"}}})
	})
}

func TestConstraintFieldsHaveMessages(t *testing.T) {
	t.Parallel()
	for name, field := range constraintFields {
		err := constraintField(&tenants.Error{Code: tenants.CodeConflict, Constraint: name})
		var te *tenants.Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, field, te.Fields[0].Location, name)
		require.NotNil(t, te.Fields[0].Msg, name)
		require.NotEqual(t, "constraint."+name, te.Fields[0].Message, "constraint.%s has an English text", name)
	}
}

// TestConstraintFieldsArePlacedPerOperation: a constraint's field is placed
// by the operation that violated it — in the body where the body carries
// it, at the parameter where the operation takes it from the path.
func TestConstraintFieldsArePlacedPerOperation(t *testing.T) {
	t.Parallel()
	type inBody struct {
		Body struct {
			TechnicianID string `json:"technician_id"`
		}
	}
	type inPath struct {
		TechnicianID string `path:"technician_id"`
		Body         struct {
			Name string `json:"name"`
		}
	}
	violation := &tenants.Error{Code: tenants.CodeInvalid, Constraint: "api_keys_technician_fkey"}
	for _, c := range []struct {
		in   reflect.Type
		want string
	}{{reflect.TypeFor[inBody](), "body.technician_id"}, {reflect.TypeFor[inPath](), "path.technician_id"}} {
		loc := newLocator(c.in, &huma.Operation{OperationID: "x"})
		var te *tenants.Error
		require.ErrorAs(t, loc.wire(constraintField(violation)), &te)
		require.Equal(t, c.want, te.Fields[0].Location)
	}
}
