// Package openapi produces ServiceNet's OpenAPI documents from the code: the
// committed openapi.yaml (3.1) and openapi-3.0.yaml (downgraded for older
// generators) in this directory are its output, and the golden test fails
// when they are stale. Regenerate with `make openapi`.
package openapi

import (
	"os"
	"path/filepath"

	"github.com/servicenet/servicenet/api"
)

// Version is the API version printed in the documents.
const Version = "0.1.0"

// Files are the generated documents, by file name.
var Files = []string{"openapi.yaml", "openapi-3.0.yaml"}

// Generate builds both documents without a database.
func Generate() (map[string][]byte, error) {
	p, err := api.PublishedOpenAPI(Version)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"openapi.yaml": p.YAML, "openapi-3.0.yaml": p.YAML30}, nil
}

// Write generates the documents into dir.
func Write(dir string) error {
	docs, err := Generate()
	if err != nil {
		return err
	}
	for name, b := range docs {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
