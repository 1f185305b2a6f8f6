package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/privacy"
	"github.com/servicenet/servicenet/tenants/subjects"
)

type listAuditInput struct {
	PageParams
	ObjectID  string `query:"object_id" maxLength:"64" doc:"Only entries about this object." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Actor     string `query:"actor" maxLength:"64" doc:"Only entries by this API key (or system)." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Operation string `query:"operation" maxLength:"64" doc:"Only entries of this operation (operationId)." example:"updateCustomer"`
	From      string `query:"from" maxLength:"40" required:"true" doc:"Start of the time range (RFC 3339), inclusive. Required." example:"2026-11-01T00:00:00+08:00"`
	To        string `query:"to" maxLength:"40" required:"true" doc:"End of the time range (RFC 3339), exclusive; after from, at most 366 days later. Required." example:"2026-12-01T00:00:00+08:00"`
}

type auditList struct {
	Data       []audit.Entry `json:"data"`
	NextCursor string        `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listAuditOutput struct{ Body auditList }

// answerPage answers an empty page as [], never null.
func (o *listAuditOutput) answerPage(xs []audit.Entry, next string) {
	if xs == nil {
		xs = []audit.Entry{}
	}
	o.Body.Data, o.Body.NextCursor = xs, next
}

type privacyPolicyOutput struct {
	ETag string `header:"ETag" doc:"The policy's version (v0 while the tenant never set one); send it in If-Match to change it."`
	Body privacy.Policy
}

func (o *privacyPolicyOutput) answer(pol privacy.Policy) { o.ETag, o.Body = etag(pol.Version), pol }

type updatePrivacyPolicyInput struct {
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the policy changed since. \"v0\" while none is set. Required: without it the request is 428."`
	Body    privacy.PolicyUpdate
}

type exportOutput struct{ Body subjects.Export }

type erasureOutput struct{ Body subjects.Erasure }

func parseRange(from, to string) (*time.Time, *time.Time, error) {
	v := &tenants.Validation{}
	parse := func(loc, s string) *time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			v.Add(loc, "an RFC 3339 time with zone", s)
			return nil
		}
		return &t
	}
	f, t := parse("query.from", from), parse("query.to", to)
	return f, t, v.Err()
}

func (s *Server) registerPrivacy() {
	register(s, authz.AuditRead, huma.Operation{
		OperationID: "listAuditEntries", Method: http.MethodGet, Path: "/v1/audit",
		Summary: "List the audit log", Tags: []string{"Audit"},
		Description: "Who changed and read what: every write to a business object with its changed fields' old and new " +
			"values (secrets are never recorded), every read of unmasked personal data, exports and erasures, with the " +
			"API key, its roles, the technician, storefront or node it acts for, the operation and the request. Oldest " +
			"first, filtered by object, actor and operation, within a required time range [from, to) of at most 366 " +
			"days (a reversed or missing range is 422). The personal data the entries recorded (a customer's name, " +
			"phones and addresses, a ticket's contact and service address, and the numbers and the ticket's contact's " +
			"name in its fault, diagnosis notes and rating comment) is shown as on the customer and the ticket " +
			"for the brand's staff, and recorded as their read; masked (138****8000) for everyone else, auditors " +
			"included. The log is append-only.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listAuditInput) (*listAuditOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		from, to, err := parseRange(in.From, in.To)
		if err != nil {
			return nil, err
		}
		return replyPage[listAuditOutput](s.deps.Audit.List(ctx, p, audit.Filter{ObjectID: in.ObjectID, Actor: in.Actor,
			Operation: in.Operation, From: from, To: to, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.TenantRead, huma.Operation{
		OperationID: "getPrivacyPolicy", Method: http.MethodGet, Path: "/v1/privacy-policy",
		Summary: "Get the privacy policy", Tags: []string{"Privacy"},
		Description: "How long technicians and node keys keep seeing a customer's personal data after their job ended " +
			"(grace_hours), and after how many days closed tickets' and no longer served customers' personal data is masked " +
			"at rest (retention_days). Its ETag is its version, \"v0\" while the tenant never set one.",
	}, func(ctx context.Context, _ *struct{}) (*privacyPolicyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[privacyPolicyOutput](s.deps.Privacy.Get(ctx, p))
	})

	register(s, authz.TenantUpdate, huma.Operation{
		OperationID: "updatePrivacyPolicy", Method: http.MethodPatch, Path: "/v1/privacy-policy",
		Summary: "Update the privacy policy", Tags: []string{"Privacy"},
		Description: "Sets the grace period and the retention; absent fields stay. retention_days 0 turns retention off. " +
			"A field sent with the value it has is no change: with nothing different, nothing is written, the version " +
			"(ETag) stays and no event is sent; a change bumps the version, with a privacy_policy.updated event. A value " +
			"out of range is 422 naming the field, and nothing changes. If-Match is required, as for the other policy " +
			"documents (428 without it: the retention decides when personal data is masked for good, not to be " +
			"changed over someone else's change; \"v0\" while none is set; another version is 412).",
		Errors:       []int{http.StatusBadRequest, http.StatusPreconditionFailed, http.StatusPreconditionRequired, http.StatusUnprocessableEntity},
		MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *updatePrivacyPolicyInput) (*privacyPolicyOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[privacyPolicyOutput](withVersion(requiredIfMatch, in.IfMatch, func(v int) (privacy.Policy, error) {
			return s.deps.Privacy.Update(ctx, p, in.Body, v)
		}))
	})

	register(s, authz.SubjectsExport, huma.Operation{
		OperationID: "exportCustomer", Method: http.MethodGet, Path: "/v1/customers/{customer_id}/export",
		Summary: "Export everything held about a customer", Tags: []string{"Customers"},
		Description: "A data-subject access request: the customer, its units, tickets, claims, payouts, complaints and " +
			"the events that name them, as JSON. Recorded in the audit log. After an erasure the export holds no " +
			"personal data.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *CustomerIDParam) (*exportOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		x, err := s.deps.Subjects.Export(ctx, p, actor(ctx, p, "exportCustomer"), in.CustomerID)
		if err != nil {
			return nil, err
		}
		return &exportOutput{Body: x}, nil
	})

	register(s, authz.SubjectsErase, huma.Operation{
		OperationID: "eraseCustomer", Method: http.MethodPost, Path: "/v1/customers/{customer_id}/erase",
		Summary: "Erase a customer's personal data", Tags: []string{"Customers"},
		Description: "A data-subject deletion request: the customer's name, phones and addresses, its tickets' contact " +
			"and service address, the values the audit log recorded of them, and the recipient of the text messages " +
			"sent to it about its tickets, claims and payouts are replaced by tombstones (a message still queued is " +
			"not sent: it fails, \"the recipient was erased\"). The " +
			"tickets, claims and payouts the brand needs for warranty and accounting stay, amounts unchanged; the " +
			"customer keeps its id. Its phones are released: they may register again as a new customer. A customer " +
			"with an open ticket (not closed, cancelled or resolved) is 409 naming the ticket.",
		Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, func(ctx context.Context, in *CustomerIDParam) (*erasureOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		e, err := s.deps.Subjects.Erase(ctx, p, actor(ctx, p, "eraseCustomer"), in.CustomerID)
		if err != nil {
			return nil, err
		}
		return &erasureOutput{Body: e}, nil
	})
}
