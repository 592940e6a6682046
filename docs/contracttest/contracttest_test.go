package contracttest

import "testing"

// TestDocumentIsValid: docs/openapi.yaml parses as a valid OpenAPI 3.1 document.
func TestDocumentIsValid(t *testing.T) {
	if _, err := Document(); err != nil {
		t.Fatal(err)
	}
}
