package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

// CustomerIDParam is the {customer_id} path parameter (exported: Huma fills
// only exported embedded structs).
type CustomerIDParam struct {
	CustomerID string `path:"customer_id" maxLength:"64" doc:"Customer ID." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
}

type customerOutput struct {
	ETag string `header:"ETag" doc:"The customer's version; send it in If-Match to update."`
	Body customers.Customer
}

type createdCustomerOutput struct {
	Status   int
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     customers.Customer
}

type listCustomersInput struct {
	PageParams
	Phone string `query:"phone" maxLength:"32" doc:"Only the customer with this phone, in any notation (matched normalised), and the storefronts' own customers recorded with it (a storefront key: its own)." example:"138 0013 8000"`
	Name  string `query:"name" maxLength:"200" doc:"Only customers whose name starts with this." example:"王"`
}

type customerList struct {
	Data       []customers.Customer `json:"data"`
	NextCursor string               `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listCustomersOutput struct{ Body customerList }

func (o *listCustomersOutput) answerPage(xs []customers.Customer, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updateCustomerInput struct {
	CustomerIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the customer changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    customers.CustomerUpdate
}

func (s *Server) registerCustomers() {
	s.registerStorefronts()
	s.registerCustomerOps()
	s.registerUnits()
}

func (s *Server) registerCustomerOps() {
	tags := []string{"Customers"}
	register(s, authz.UnitsWrite, huma.Operation{
		OperationID: "createCustomer", Method: http.MethodPost, Path: "/v1/customers",
		Summary: "Find or create a customer by phone", Tags: tags,
		Description: "Customers are deduplicated by phone. Phones are normalised: spaces, dashes, dots and " +
			"parentheses are dropped; a mainland number loses +86 / 0086 (a landline written as +86 532 ... gets " +
			"its leading 0 back: 0532...), other countries keep + and their code; mainland mobiles have 11 digits. " +
			"If none of the phones belongs to a customer, the customer is created (201). If they belong to one " +
			"customer, that customer is answered unchanged with 200 and its Location (change it with " +
			"updateCustomer). Phones of two different customers are a conflict (409 on body.phones). Addresses " +
			"are [{label, region_code, line, postal_code}] with known GB/T 2260 codes. A storefront key finds only " +
			"customers it created or sold a unit to: a phone that belongs only to a customer outside its scope " +
			"creates a customer of its own (201), as a new phone does, and tells it nothing of the other customer.",
		DefaultStatus: http.StatusCreated, MaxBodyBytes: 32 << 10,
		Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity},
		Responses: map[string]*huma.Response{"200": {
			Description: "A customer with one of the phones already exists: it is answered unchanged.",
			Headers: map[string]*huma.Param{"Location": {Description: "The existing customer.", Schema: &huma.Schema{Type: "string"}},
				"ETag": {Description: "The customer's version.", Schema: &huma.Schema{Type: "string"}}},
			Content: map[string]*huma.MediaType{"application/json": {Schema: &huma.Schema{Ref: "#/components/schemas/Customer"}}},
		}},
	}, func(ctx context.Context, in *struct{ Body customers.NewCustomer }) (*createdCustomerOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, created, err := s.deps.Customers.CreateCustomer(ctx, p, in.Body)
		if err != nil {
			return nil, err
		}
		return &createdCustomerOutput{Status: createdStatus(created), Location: "/v1/customers/" + c.ID, ETag: etag(c.Version), Body: c}, nil
	})

	register(s, authz.UnitsRead, huma.Operation{
		OperationID: "listCustomers", Method: http.MethodGet, Path: "/v1/customers",
		Summary: "List customers", Tags: tags,
		Description: "Customers in the caller's scope, oldest first, filtered by phone (any notation) or name prefix. " +
			"A storefront key lists only the customers it created or sold a unit to.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listCustomersInput) (*listCustomersOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listCustomersOutput](s.deps.Customers.ListCustomers(ctx, p, customers.CustomerFilter{Phone: in.Phone, NamePrefix: in.Name,
			Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.UnitsRead, huma.Operation{
		OperationID: "getCustomer", Method: http.MethodGet, Path: "/v1/customers/{customer_id}",
		Summary: "Get a customer", Tags: tags,
		Description: "A customer with phones and addresses. Customers outside the caller's scope (for a storefront " +
			"key: neither created by it nor owning one of its units) are not found.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *CustomerIDParam) (*customerOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		c, err := s.deps.Customers.GetCustomer(ctx, p, in.CustomerID)
		if err != nil {
			return nil, err
		}
		return &customerOutput{ETag: etag(c.Version), Body: c}, nil
	})

	register(s, authz.UnitsWrite, huma.Operation{
		OperationID: "updateCustomer", Method: http.MethodPatch, Path: "/v1/customers/{customer_id}",
		Summary: "Update a customer", Tags: tags,
		Description: "Changes a customer's name, phones or addresses; absent fields stay, phones and addresses are " +
			"replaced whole. A phone that belongs to another customer in the caller's scope is a conflict (409 on " +
			"body.phones[i]). A customer the retention masked (masked_at) is 409 and stays as it is: register the " +
			"customer again (its phones are free) and move its units to the new record. " +
			"Send the ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 32 << 10,
	}, func(ctx context.Context, in *updateCustomerInput) (*customerOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		c, err := s.deps.Customers.UpdateCustomer(ctx, p, in.CustomerID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &customerOutput{ETag: etag(c.Version), Body: c}, nil
	})
}
