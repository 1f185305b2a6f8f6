package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
)

// Tenant is a brand as the API shows it.
type Tenant struct {
	ID       string `json:"id" doc:"Tenant ID." example:"ten_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	Name     string `json:"name" example:"Haier Home Appliances"`
	Slug     string `json:"slug" doc:"Unique short name." example:"haier"`
	TimeZone string `json:"time_zone" doc:"IANA zone used for business days and deadlines." example:"Asia/Shanghai"`
	Currency string `json:"currency" doc:"ISO 4217 currency of the tenant's money amounts." example:"CNY"`
	Status   string `json:"status" enum:"active,suspended" example:"active"`
	// DefaultLanguage: see updateTenantInput.
	DefaultLanguage string    `json:"default_language" enum:"zh-CN,en" doc:"The language of texts for callers whose Accept-Language names no supported language, and of customer messages." example:"zh-CN"`
	ServiceHotline  *string   `json:"service_hotline,omitempty" doc:"The brand's unified service hotline (seed 001: 如果客户有什么异议,引导客户拨打统一热线电话), as it is shown: the number a customer who objects to a charge is directed to, named in the texts that direct them (the 422 tickets.charges_not_confirmed of a schedule, a reschedule or a visit exception). Absent until the brand sets one; those texts then name the hotline without a number." example:"400 699 9999"`
	CreatedAt       time.Time `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt       time.Time `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

type deleteTestDataOutput struct {
	Body struct {
		DeletedRows int64 `json:"deleted_rows" doc:"How many stored rows of test data were deleted." example:"42"`
	}
}

func tenantOf(t identity.Tenant) Tenant {
	return Tenant{ID: t.ID, Name: t.Name, Slug: t.Slug, TimeZone: t.TimeZone, Currency: t.Currency,
		Status: t.Status, DefaultLanguage: t.DefaultLanguage, ServiceHotline: t.ServiceHotline, CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt}
}

func etag(version int) string { return fmt.Sprintf(`"v%d"`, version) }

// ifMatchPattern is the only If-Match this API accepts: one strong ETag as
// etag writes it, "v<N>" without leading zeros.
var ifMatchPattern = regexp.MustCompile(`^"v(0|[1-9][0-9]{0,17})"$`)

// parseIfMatch returns the version named by an If-Match header, or nil when
// the header is absent. The comparison is strict (RFC 9110 strong
// comparison): a weak tag (W/"v5") never matches and is 412; anything but
// one "v<N>" tag ("*", a list, "v05", garbage) is 400. Both name
// header.If-Match. "v0" parses to 0: only the SLA policy has a version 0 (its
// defaults); every other caller goes through ifVersion, which refuses it.
func parseIfMatch(h string) (*int, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, nil
	}
	if strings.HasPrefix(h, "W/") {
		return nil, ifMatchProblem(http.StatusPreconditionFailed, tenants.CodePreconditionFailed, "api.if_match.weak", h)
	}
	m := ifMatchPattern.FindStringSubmatch(h)
	if m == nil {
		return nil, ifMatchProblem(http.StatusBadRequest, "", "api.if_match.not_ours_hint", h)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return nil, ifMatchProblem(http.StatusBadRequest, "", "api.if_match.not_ours", h)
	}
	return &n, nil
}

// ifVersion is the If-Match of an update whose If-Match is optional: 0 when
// absent (no check), else the version it names, at least 1 ("v0" names no
// version a stored resource has: 412).
func ifVersion(h string) (int, error) {
	v, err := parseIfMatch(h)
	if err != nil || v == nil {
		return 0, err
	}
	if *v == 0 {
		return 0, ifMatchProblem(http.StatusPreconditionFailed, tenants.CodePreconditionFailed, "api.if_match.version_zero", h)
	}
	return *v, nil
}

// withIfVersion runs change with the version an optional If-Match names
// (ifVersion: 0 when absent); a malformed or weak If-Match is refused before
// change runs.
func withIfVersion[T any](ifMatch string, change func(version int) (T, error)) (T, error) {
	return withVersion(ifVersion, ifMatch, change)
}

// withVersion runs change with the version read reads from ifMatch
// (ifVersion: optional; requiredIfMatch: required, 428 without it); when
// read refuses the header, change does not run.
func withVersion[T any](read func(ifMatch string) (int, error), ifMatch string, change func(version int) (T, error)) (T, error) {
	v, err := read(ifMatch)
	if err != nil {
		var zero T
		return zero, err
	}
	return change(v)
}

// requireVersion is ifVersion for an action on an existing object that must
// not be taken blind: an absent If-Match is 428. find reads the object in
// the caller's scope first, so that another tenant's or an out-of-scope
// object stays 404 (its error is returned) and its existence is not told
// apart by the status. find runs only when If-Match is absent, an error path.
func requireVersion(h string, find func() error) (int, error) {
	if strings.TrimSpace(h) == "" {
		if err := find(); err != nil {
			return 0, err
		}
		return 0, ifMatchRequired()
	}
	return ifVersion(h)
}

func ifMatchRequired() *Problem {
	return ifMatchProblem(http.StatusPreconditionRequired, "", "api.if_match.required", "")
}

// ifMatchProblem is a problem with If-Match whose detail and field message
// are the catalog message msg.
func ifMatchProblem(status int, code tenants.Code, msg, value string) *Problem {
	p := newProblem(status, code, "").withMsg(msg)
	p.Errors = []*FieldDetail{fieldMsg("header.If-Match", msg)}
	if value != "" {
		p.Errors[0].Value = value
	}
	return p
}

type tenantOutput struct {
	ETag string `header:"ETag" doc:"Version tag; send it in If-Match to update."`
	Body Tenant
}

type createTenantInput struct {
	Body struct {
		Name     string `json:"name" minLength:"1" maxLength:"200" doc:"Display name of the brand." example:"Haier Home Appliances"`
		Slug     string `json:"slug" pattern:"^[a-z0-9][a-z0-9-]{1,62}$" doc:"Unique short name: lowercase letters, digits and dashes, 2-63 characters." example:"haier"`
		TimeZone string `json:"time_zone,omitempty" maxLength:"64" default:"Asia/Shanghai" doc:"IANA time zone." example:"Asia/Shanghai"`
		Currency string `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"ISO 4217 currency code." default:"CNY" example:"CNY"`
		Test     bool   `json:"test,omitempty" doc:"Issue the first admin key as an sn_test_ key." example:"false"`
	}
}

type createTenantOutput struct {
	Location string `header:"Location"`
	Body     struct {
		Tenant   Tenant        `json:"tenant"`
		AdminKey CreatedAPIKey `json:"admin_key"`
	}
}

type tenantIDInput struct {
	TenantID string `path:"tenant_id" maxLength:"64" doc:"Tenant ID." example:"ten_01jd3zq8w6v7t3y2k9x4n5m6pa"`
}

type listTenantsInput struct {
	PageParams
}

type listTenantsOutput struct {
	Body struct {
		Data       []Tenant `json:"data"`
		NextCursor string   `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
	}
}

func (o *listTenantsOutput) answerPage(ts []identity.Tenant, next string) {
	o.Body.Data, o.Body.NextCursor = mapped(ts, tenantOf), next
}

type updateTenantInput struct {
	IfMatch string `header:"If-Match" doc:"ETag from a previous read; the update applies only if the tenant is unchanged (412 otherwise). Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    struct {
		Name            *string `json:"name,omitempty" minLength:"1" maxLength:"200" example:"Haier Smart Home"`
		TimeZone        *string `json:"time_zone,omitempty" maxLength:"64" doc:"IANA time zone." example:"Asia/Shanghai"`
		DefaultLanguage *string `json:"default_language,omitempty" maxLength:"35" doc:"zh-CN or en: the language of texts for callers whose Accept-Language names no supported language, and of customer messages. Another language is 422." example:"en"`
		ServiceHotline  *string `json:"service_hotline,omitempty" maxLength:"40" doc:"The brand's unified service hotline, the number a customer who objects to a charge is directed to (seed 001: 如果客户有什么异议,引导客户拨打统一热线电话). A phone number as customer phones are read (github.com/nyaruka/phonenumbers, mainland China the default region): a 400 or 800 national service number (400-699-9999, 800-820-8888), a landline with its area code, a mobile, or +country code and number, in any usual notation; stored and shown in one form (400 699 9999). Anything else (a short number such as 95555, a digit short, letters) is 422 and changes nothing. An empty string clears it." example:"400-699-9999"`
	}
}

func (s *Server) registerTenants() {
	register(s, authz.TenantTestDataDelete, huma.Operation{
		OperationID: "deleteTestData", Method: http.MethodDelete, Path: "/v1/test-data",
		Summary: "Delete all test data", Tags: []string{"Identity"},
		Description: "Deletes every object made in test mode (with `sn_test_` keys): tickets, claims, units, customers, " +
			"contracts, the test network and catalog, test events, webhook endpoints and deliveries. Test keys bound " +
			"to a deleted node, technician or storefront go with them; live data is never touched. Call it with a " +
			"test key (a live key is 409).",
		Errors: []int{http.StatusConflict},
	}, func(ctx context.Context, _ *struct{}) (*deleteTestDataOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		n, err := s.deps.Identity.DeleteTestData(ctx, p)
		if err != nil {
			return nil, err
		}
		out := &deleteTestDataOutput{}
		out.Body.DeletedRows = n
		return out, nil
	})

	register(s, authz.Operator, huma.Operation{
		OperationID: "createTenant", Method: http.MethodPost, Path: "/v1/platform/tenants",
		Summary: "Create a tenant (brand) and its first admin key", Tags: []string{"Platform"},
		Description:   "Creates the tenant and issues its first `tenant_admin` API key. The key's secret is in the response and is never shown again.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *createTenantInput) (*createTenantOutput, error) {
		t, key, err := s.deps.Identity.CreateTenant(ctx, identity.NewTenant{Name: in.Body.Name, Slug: in.Body.Slug,
			TimeZone: in.Body.TimeZone, Currency: in.Body.Currency, Test: in.Body.Test}, "operator")
		if err != nil {
			return nil, err
		}
		out := &createTenantOutput{Location: "/v1/platform/tenants/" + t.ID}
		out.Body.Tenant, out.Body.AdminKey = tenantOf(t), createdKeyOf(key)
		return out, nil
	})

	register(s, authz.Operator, huma.Operation{
		OperationID: "getTenant", Method: http.MethodGet, Path: "/v1/platform/tenants/{tenant_id}",
		Summary: "Get a tenant", Tags: []string{"Platform"}, Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *tenantIDInput) (*tenantOutput, error) {
		if !tenants.ValidID(tenants.PrefixTenant, in.TenantID) {
			return nil, tenants.NotFound("tenant")
		}
		t, err := s.deps.Identity.GetTenant(ctx, in.TenantID)
		if err != nil {
			return nil, err
		}
		return &tenantOutput{ETag: etag(t.Version), Body: tenantOf(t)}, nil
	})

	register(s, authz.Operator, huma.Operation{
		OperationID: "listTenants", Method: http.MethodGet, Path: "/v1/platform/tenants",
		Summary: "List tenants", Tags: []string{"Platform"}, Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listTenantsInput) (*listTenantsOutput, error) {
		return replyPage[listTenantsOutput](s.deps.Identity.ListTenants(ctx, in.limit(), in.Cursor))
	})

	register(s, authz.TenantRead, huma.Operation{
		OperationID: "getCurrentTenant", Method: http.MethodGet, Path: "/v1/tenant",
		Summary: "Get the caller's tenant", Tags: []string{"Identity"},
		Description: "The brand the credential belongs to, with its settings and an ETag for updates.",
	}, func(ctx context.Context, _ *struct{}) (*tenantOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		t, err := s.deps.Identity.GetTenant(ctx, p.TenantID)
		if err != nil {
			return nil, err
		}
		return &tenantOutput{ETag: etag(t.Version), Body: tenantOf(t)}, nil
	})

	register(s, authz.TenantUpdate, huma.Operation{
		OperationID: "updateCurrentTenant", Method: http.MethodPatch, Path: "/v1/tenant",
		Summary: "Update the caller's tenant's settings", Tags: []string{"Identity"},
		Description: "Changes the display name, time zone, default language or service hotline. Send the ETag of your last read in If-Match to avoid overwriting someone else's change. " +
			"The settings are shared by live and test mode: change them with a live key (a test key is 409 and changes nothing).",
		Errors:       []int{http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *updateTenantInput) (*tenantOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		var iv *int
		if v > 0 {
			iv = &v
		}
		t, err := s.deps.Identity.UpdateTenant(ctx, p, identity.TenantUpdate{Name: in.Body.Name, TimeZone: in.Body.TimeZone,
			DefaultLanguage: in.Body.DefaultLanguage, ServiceHotline: in.Body.ServiceHotline, IfVersion: iv})
		if err != nil {
			return nil, err
		}
		return &tenantOutput{ETag: etag(t.Version), Body: tenantOf(t)}, nil
	})
}
