package httpapi

import (
	"errors"
	"slices"
	"testing"

	"github.com/devicegate/devicegate/docs/contracttest"
	"github.com/labstack/echo/v4"
)

// consoleOnlyCodes are the error-table codes no /openapi/v1 operation
// answers today: /console/api's (sign-in, account creation) and
// insufficient_scope, which only routes guarded by RequireScope answer (the
// built-in bearer routes need no scope). The document lists them in
// ErrorCode, not per operation.
var consoleOnlyCodes = []string{"invalid_credentials", "conflict", "insufficient_scope"}

// TestContractDocumentsEveryErrorCode: every code of the error table (and
// the ones classify builds itself) is in docs/openapi.yaml's ErrorCode
// enum and, unless console-only, in the responses of some operation.
func TestContractDocumentsEveryErrorCode(t *testing.T) {
	doc, err := contracttest.Document()
	if err != nil {
		t.Fatal(err)
	}
	var enum []string
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		enum = append(enum, v.(string))
	}
	perOperation := contracttest.OperationCodes(doc)
	codes := []string{classify(errors.New("unknown")).code, fromEcho(echo.ErrMethodNotAllowed).code,
		fromEcho(echo.ErrTooManyRequests).code, fromEcho(echo.ErrNotFound).code}
	for _, row := range errorTable {
		codes = append(codes, row.wire.code)
	}
	for _, c := range codes {
		if !slices.Contains(enum, c) {
			t.Errorf("error code %q is answered by httpapi but missing from ErrorCode in docs/openapi.yaml", c)
		}
		if !slices.Contains(consoleOnlyCodes, c) && !perOperation[c] {
			t.Errorf("error code %q is answered by httpapi but no operation in docs/openapi.yaml lists it", c)
		}
	}
	for _, c := range enum {
		if !slices.Contains(codes, c) {
			t.Errorf("docs/openapi.yaml's ErrorCode lists %q, which httpapi never answers", c)
		}
	}
	for c := range perOperation {
		if !slices.Contains(enum, c) {
			t.Errorf("an operation in docs/openapi.yaml lists %q, which is not in ErrorCode", c)
		}
	}
}
