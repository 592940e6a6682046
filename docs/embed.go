package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml (OpenAPI 3.1), served at /openapi/v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
