package api

import (
	"fmt"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// catalogSchemas is the published document's schemas, the event
// catalog's among them, built once.
var catalogSchemas = sync.OnceValue(func() huma.Registry {
	return New(Config{Version: "catalog"}, Deps{}).api.OpenAPI().Components.Schemas
})

// EventDataProblems checks an event's data (decoded JSON) against the
// schema its type's data has in the event catalog (the document's
// webhooks and the feed's schema): what the data holds that the catalog
// does not promise, or holds otherwise. A type missing from the catalog is
// a problem too. The test environment (internal/apitest) runs it over
// every event a test leaves, so a field written without its place in the
// contract fails the test that wrote it.
func EventDataProblems(typ string, data any) []string {
	reg := catalogSchemas()
	s, ok := reg.Map()[eventSchemaName(typ)]
	if !ok || s.Properties["data"] == nil {
		return []string{typ + ": not in the event catalog"}
	}
	res := &huma.ValidateResult{}
	huma.Validate(reg, s.Properties["data"], huma.NewPathBuffer([]byte("data"), len("data")), huma.ModeReadFromServer, data, res)
	var out []string
	for _, e := range res.Errors {
		if d, ok := e.(*huma.ErrorDetail); ok {
			out = append(out, fmt.Sprintf("%s: %s %s", typ, d.Location, d.Message))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %v", typ, e))
	}
	return out
}
