package api

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/yaml"

	"github.com/servicenet/servicenet/internal/i18n"
)

// The published document is the one clients are generated from: the
// committed openapi/*.yaml and what /openapi.json and friends serve. It is
// the document Huma builds from the code, finished by publish so that a
// generated client reads as if written by hand: every value set is one named
// schema referenced everywhere, every error status is the one shared Problem
// response, the headers the middleware adds are declared, and the event
// catalog is the webhooks section. publish works on a document built only to
// be published (PublishedOpenAPI), never on the serving one: Huma validates
// requests against the serving document's schemas, and those keep their
// inline enums and 422 messages.

// OptionalParam is a query parameter that can tell "absent" from its zero
// value (Huma's documented wrapper): a boolean filter that is true, false or
// not given.
type OptionalParam[T any] struct {
	Value T
	IsSet bool
}

// Schema is the wrapped type's schema.
func (o OptionalParam[T]) Schema(r huma.Registry) *huma.Schema {
	return huma.SchemaFromType(r, reflect.TypeOf(o.Value))
}

// Receiver receives the parsed value.
func (o *OptionalParam[T]) Receiver() reflect.Value { return reflect.ValueOf(o).Elem().Field(0) }

// OnParamSet records whether the parameter was sent.
func (o *OptionalParam[T]) OnParamSet(isSet bool, _ any) { o.IsSet = isSet }

// Ptr is the value when sent, nil otherwise.
func (o OptionalParam[T]) Ptr() *T {
	if !o.IsSet {
		return nil
	}
	return &o.Value
}

// schemaName is the namer of the document's schemas: the Go type's name,
// except that Huma's hints for anonymous bodies (…InputBody, …OutputBody)
// become …Request and …Response.
func schemaName(t reflect.Type, hint string) string {
	n := huma.DefaultSchemaNamer(t, hint)
	if s, ok := strings.CutSuffix(n, "InputBody"); ok {
		return s + "Request"
	}
	if s, ok := strings.CutSuffix(n, "OutputBody"); ok {
		return s + "Response"
	}
	return n
}

// valueSetNames names the value sets that appear under more than one
// property or parameter name, or whose property name alone says too little.
// A value set not listed is named after where it first appears
// (<Schema><Property>, or the parameter's name).
var valueSetNames = map[string]string{
	"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet": "ProductCategory",
	"install,repair,maintenance,carry_in,remote":                                                             "ServiceKind",
	"manufacturer,service_center,specialist_depot,repair_point":                                              "NodeTier",
	"A,B,C,D,E":                              "NodeGrade",
	"probation,active,suspended,terminated":  "NodeStatus",
	"probation,active":                       "NewNodeStatus",
	"late,attitude,fee,quality,repeat,other": "ComplaintCategory",
	"low,medium,high,critical":               "ComplaintSeverity",
	"json,csv":                               "DownloadFormat",
	"tmall,jd,pinduoduo,douyin,suning,brand_store,offline,other": "StorefrontPlatform",
	"active,suspended":              "AccountStatus",
	"live,test":                     "KeyEnvironment",
	"active,expired,revoked":        "APIKeyStatus",
	"dispatcher,node_manager,brand": "EscalationLevel",
	"warranty,extended_warranty,accidental_damage,swap_for_repair,no_reason_repair,reimbursement": "ClaimKind",
	"extended_warranty,accidental_damage,swap_for_repair,no_reason_repair":                        "PlanKind",
	"open,investigating,reopened,resolved,closed":                                                 "ComplaintState",
	"active,retired":                    "PlanStatus",
	"active,on_leave,suspended,left":    "TechnicianStatus",
	"active,on_leave,suspended":         "NewTechnicianStatus",
	"early,on_time,late,very_late":      "Punctuality",
	"satisfied,unsatisfied,unreachable": "CallbackOutcome",
	"submitted,under_review,approved,rejected,needs_info,withdrawn,paid": "ClaimState",
	"labor,part,visit,other":                    "ClaimLineKind",
	"pending,active,expired,cancelled,consumed": "ContractState",
	"tenant_admin,network_manager,dispatcher,agent,node_manager,technician,storefront,integrator,auditor": "Role",
	"repair,exchange,return,swap":                                              "RemedyKind",
	"pending,retrying,delivered,failed":                                        "DeliveryStatus",
	"no_signoff,rating_not_confirmed,invoice_overdue":                          "ReconciliationProblem",
	"resolved,observe,failed":                                                  "GuidanceOutcome",
	"valid,expired,missing":                                                    "LicenceStatus",
	"good,damaged":                                                             "LoanerCondition",
	"available,lent,retired":                                                   "LoanerStatus",
	"repair,claim,swap,return,maintenance,install":                             "ServiceRecordKind",
	"unrepairable,repair_cost_above_retail,statutory_exchange,plan_swap":       "SwapReason",
	"unrepairable,repair_cost_above_retail":                                    "TicketSwapReason",
	"hotline,web,app,storefront,device_alarm":                                  "TicketChannel",
	"low,normal,high,urgent":                                                   "TicketPriority",
	"install,repair,maintenance,consultation,return,exchange":                  "TicketType",
	"storefront,brand_store,retail,other":                                      "SalesChannel",
	"backed_up,not_backed_up,no_data":                                          "DataBackup",
	"scheduled,paid,missed":                                                    "PayoutState",
	"requested,pending_node_manager,pending_brand,approved,fulfilled,rejected": "SwapState",
	"performance,environmental_dust,environmental_heat,environmental_moisture,power_surge,unstable_voltage,accidental_damage,human_damage,force_majeure,software_tuning,no_fault,delivery_damage": "FaultCause",
	"remote,on_site,carry_in":                                                                 "TriageMode",
	"customer_request,technician_conflict,parts,other":                                        "RescheduleReason",
	"agreed,customer_request,technician_conflict,parts,other":                                 "AppointmentReason",
	"customer_not_home,entry_refused,credentials_doubted,product_elsewhere,power_cut":         "VisitException",
	"on_site,customer_not_home,entry_refused,credentials_doubted,product_elsewhere,power_cut": "VisitOutcome",
}

// publish finishes doc (built only to be published) for client generators.
func publish(doc *huma.OpenAPI) {
	declareMessageCodes(doc)
	hoistEnums(doc)
	shareProblem(doc)
	declareHeaders(doc)
}

// declareMessageCodes lists the catalog's message codes as the enum of
// Message.code (hoisted to the MessageCode value set): the codes are the
// contract, the texts are not.
func declareMessageCodes(doc *huma.OpenAPI) {
	s := doc.Components.Schemas.Map()["Message"]
	if s == nil || s.Properties["code"] == nil {
		return
	}
	codes, err := i18n.Codes()
	if err != nil {
		panic(fmt.Sprintf("api: message catalog: %v", err))
	}
	s.Properties["code"].Enum = make([]any, len(codes))
	for i, c := range codes {
		s.Properties["code"].Enum[i] = c
	}
}

// hoistEnums replaces every inline enum of two or more values by a $ref to
// one named schema per value set; the field's own description stays beside
// the reference.
func hoistEnums(doc *huma.OpenAPI) {
	reg := doc.Components.Schemas.Map()
	named := map[string]string{} // value set → component name
	taken := map[string]string{} // component name → value set
	hoist := func(s *huma.Schema, where string) {
		if s == nil || s.Ref != "" || len(s.Enum) < 2 || s.Type != huma.TypeString {
			return
		}
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = fmt.Sprint(v)
		}
		set := strings.Join(vals, ",")
		name, ok := named[set]
		if !ok {
			name = valueSetNames[set]
			if name == "" {
				name = where
			}
			if other, dup := taken[name]; dup || reg[name] != nil {
				panic(fmt.Sprintf("api: value sets %q and %q would both be named %s: name one in valueSetNames", set, other, name))
			}
			named[set], taken[name] = name, set
			reg[name] = &huma.Schema{Type: huma.TypeString, Enum: slices.Clone(s.Enum)}
		}
		*s = huma.Schema{Ref: "#/components/schemas/" + name, Description: s.Description}
	}
	var walk func(s *huma.Schema, where string)
	walk = func(s *huma.Schema, where string) {
		if s == nil || s.Ref != "" {
			return
		}
		for _, p := range sortedKeys(s.Properties) {
			walk(s.Properties[p], where+pascal(p))
			hoist(s.Properties[p], where+pascal(p))
		}
		if s.Items != nil {
			walk(s.Items, where)
			hoist(s.Items, where)
		}
		if ap, ok := s.AdditionalProperties.(*huma.Schema); ok {
			walk(ap, where)
			hoist(ap, where)
		}
		for _, xs := range [][]*huma.Schema{s.OneOf, s.AnyOf, s.AllOf} {
			for _, x := range xs {
				walk(x, where)
				hoist(x, where)
			}
		}
	}
	for _, name := range sortedKeys(reg) {
		walk(reg[name], name)
	}
	for _, path := range sortedKeys(doc.Paths) {
		for _, op := range operationsOf(doc.Paths[path]) {
			for _, p := range op.Parameters {
				walk(p.Schema, pascal(p.Name))
				hoist(p.Schema, pascal(p.Name))
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					walk(mt.Schema, pascal(op.OperationID)+"Request")
				}
			}
			for _, r := range op.Responses {
				for _, mt := range r.Content {
					walk(mt.Schema, pascal(op.OperationID)+"Response")
				}
			}
		}
	}
}

// shareProblem makes every error response of every operation the one shared
// Problem response, and declares what Huma itself may answer before a
// handler runs: 400 (a malformed body) and 415 (a body of another media
// type) on every operation that takes a body.
func shareProblem(doc *huma.OpenAPI) {
	if doc.Components.Responses == nil {
		doc.Components.Responses = map[string]*huma.Response{}
	}
	doc.Components.Responses["Problem"] = &huma.Response{
		Description: "An error (RFC 9457 problem details): `code` is stable, `errors[].location` names each offending field.",
		Headers: map[string]*huma.Param{
			"Retry-After": {Description: "On 429 and 503: seconds to wait before retrying (a POST is safe to retry with the same Idempotency-Key).",
				Schema: &huma.Schema{Type: huma.TypeInteger, Minimum: ptr(1.0), Examples: []any{2}}},
		},
		Content: map[string]*huma.MediaType{"application/problem+json": {Schema: &huma.Schema{Ref: "#/components/schemas/Problem"}}},
	}
	for _, pi := range doc.Paths {
		for _, op := range operationsOf(pi) {
			if op.RequestBody != nil {
				op.Responses["400"], op.Responses["415"] = &huma.Response{}, &huma.Response{}
			}
			for code := range op.Responses {
				if n, err := strconv.Atoi(code); code == "default" || (err == nil && n >= 400) {
					op.Responses[code] = &huma.Response{Ref: "#/components/responses/Problem"}
				}
			}
			delete(op.Responses, "default")
		}
	}
}

// declareHeaders documents the headers the middleware adds to successful
// answers: the rate limit on every operation that takes a credential, and
// Idempotent-Replayed on POSTs.
func declareHeaders(doc *huma.OpenAPI) {
	for _, pi := range doc.Paths {
		for _, op := range operationsOf(pi) {
			limited := len(op.Security) > 0
			for code, r := range op.Responses {
				if r.Ref != "" || !strings.HasPrefix(code, "2") {
					continue
				}
				if r.Headers == nil {
					r.Headers = map[string]*huma.Param{}
				}
				if limited {
					r.Headers["RateLimit"] = &huma.Param{Description: "The credential's budget now: `\"credential\";r=<requests left>;t=<seconds until full>` (IETF RateLimit headers).",
						Schema: &huma.Schema{Type: huma.TypeString, Examples: []any{`"credential";r=99;t=1`}}}
					r.Headers["RateLimit-Policy"] = &huma.Param{Description: "The credential's budget: `\"credential\";q=<requests>;w=<seconds to refill>`.",
						Schema: &huma.Schema{Type: huma.TypeString, Examples: []any{`"credential";q=100;w=2`}}}
				}
				if op.Method == http.MethodPost {
					r.Headers["Idempotent-Replayed"] = &huma.Param{Description: "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
						Schema: &huma.Schema{Type: huma.TypeBoolean}}
				}
			}
		}
	}
}

func operationsOf(pi *huma.PathItem) []*huma.Operation {
	var ops []*huma.Operation
	for _, op := range []*huma.Operation{pi.Get, pi.Put, pi.Post, pi.Delete, pi.Patch} {
		if op != nil {
			ops = append(ops, op)
		}
	}
	return ops
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pascal turns snake_case, kebab-case and camelCase into PascalCase.
func pascal(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' || r == '-' || r == '.' || r == ' ' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Published is a ServiceNet document finished for publication (see publish).
type Published struct {
	JSON, YAML, JSON30, YAML30 []byte
}

// PublishedOpenAPI builds the published documents for version.
func PublishedOpenAPI(version string) (Published, error) {
	s := New(Config{Version: version}, Deps{})
	doc := s.api.OpenAPI()
	publish(doc)
	var p Published
	var err error
	if p.JSON, err = doc.MarshalJSON(); err != nil {
		return p, err
	}
	if p.YAML, err = doc.YAML(); err != nil {
		return p, err
	}
	b, err := doc.Downgrade()
	if err != nil {
		return p, err
	}
	var v30 map[string]any
	if err := stdjson.Unmarshal(b, &v30); err != nil {
		return p, err
	}
	delete(v30, "webhooks") // 3.0 has no webhooks section, so neither its bodies nor its signature
	if c, ok := v30["components"].(map[string]any); ok {
		if schemas, ok := c["schemas"].(map[string]any); ok {
			for name := range schemas {
				if strings.HasSuffix(name, "Webhook") {
					delete(schemas, name)
				}
			}
		}
		if ss, ok := c["securitySchemes"].(map[string]any); ok {
			delete(ss, "webhookSignature")
		}
	}
	stripRefSiblings(v30)
	if p.JSON30, err = stdjson.Marshal(v30); err != nil {
		return p, err
	}
	var buf bytes.Buffer
	err = yaml.Convert(&buf, bytes.NewReader(p.JSON30))
	p.YAML30 = buf.Bytes()
	return p, err
}

// stripRefSiblings drops what 3.0 ignores beside a $ref (a field's own
// description): 3.0 linters refuse it.
func stripRefSiblings(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["$ref"]; ok {
			for k := range v {
				if k != "$ref" {
					delete(v, k)
				}
			}
			return
		}
		for _, x := range v {
			stripRefSiblings(x)
		}
	case []any:
		for _, x := range v {
			stripRefSiblings(x)
		}
	}
}

// specHandler serves the published documents, built on first request.
func (s *Server) specHandler() http.Handler {
	var once sync.Once
	var p Published
	var err error
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { p, err = PublishedOpenAPI(s.cfg.Version) })
		if err != nil {
			writeProblemHTTP(w, r, newProblem(http.StatusInternalServerError, "", "").withMsg("problem.internal"))
			return
		}
		var body []byte
		ct := "application/openapi+json"
		switch r.URL.Path {
		case "/openapi.json":
			body = p.JSON
		case "/openapi-3.0.json":
			body = p.JSON30
		case "/openapi.yaml":
			body, ct = p.YAML, "application/openapi+yaml"
		case "/openapi-3.0.yaml":
			body, ct = p.YAML30, "application/openapi+yaml"
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(body)
	})
}
