package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"

	"github.com/devicegate/devicegate/domain"
	"github.com/labstack/echo/v4"
)

// maxBody is the largest accepted request body (SPEC 1): larger is a 413.
const maxBody = 64 << 10

// decodeFields reads the request body as JSON or as
// application/x-www-form-urlencoded and returns the named fields that are
// present. Unknown fields are ignored whatever their type. It fails, before
// any use case runs, with domain.ErrInvalidRequest when the body is empty,
// not a JSON object, malformed, of another content type, or gives a named
// field a non-string value (JSON null counts as absent; a form field given
// twice is malformed), and with errTooLarge when it exceeds maxBody.
func decodeFields(c echo.Context, names ...string) (map[string]string, error) {
	req := c.Request()
	if req.ContentLength > maxBody {
		return nil, errTooLarge
	}
	mediaType, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil {
		return nil, fmt.Errorf("%w: Content-Type must be application/json or application/x-www-form-urlencoded", domain.ErrInvalidRequest)
	}
	if mediaType != echo.MIMEApplicationJSON && mediaType != echo.MIMEApplicationForm {
		return nil, fmt.Errorf("%w: Content-Type must be application/json or application/x-www-form-urlencoded", domain.ErrInvalidRequest)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the body: %v", domain.ErrInvalidRequest, err) //nolint:errorlint // the cause is text only, so the error table classifies by the sentinel alone
	}
	if len(body) > maxBody {
		return nil, errTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: the request body is empty", domain.ErrInvalidRequest)
	}
	if mediaType == echo.MIMEApplicationJSON {
		return jsonFields(body, names)
	}
	return formFields(body, names)
}

// jsonFields walks the top-level object token by token (a map decode would
// silently keep the last of two equal keys). A named field given twice is
// malformed, like a repeated form field; unknown fields are only validated.
func jsonFields(body []byte, names []string) (map[string]string, error) {
	trimmed := bytes.TrimSpace(body)
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: the body must be a JSON object", domain.ErrInvalidRequest)
	}
	malformed := fmt.Errorf("%w: the body is not valid JSON", domain.ErrInvalidRequest)
	wanted := make(map[string]bool, len(names))
	for _, n := range names {
		wanted[n] = true
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, malformed
	}
	out := make(map[string]string, len(names))
	seen := make(map[string]bool, len(names))
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return nil, malformed
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed
		}
		if !wanted[key] {
			continue
		}
		if seen[key] {
			return nil, fmt.Errorf("%w: field %q is repeated", domain.ErrInvalidRequest, key)
		}
		seen[key] = true
		if string(v) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("%w: field %q must be a string", domain.ErrInvalidRequest, key)
		}
		out[key] = s
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, malformed
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: unexpected data after the JSON object", domain.ErrInvalidRequest)
	}
	return out, nil
}

func formFields(body []byte, names []string) (map[string]string, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: the form body is malformed", domain.ErrInvalidRequest)
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		vs, ok := values[name]
		if !ok {
			continue
		}
		if len(vs) > 1 {
			// RFC 6749 section 3.1: parameters must not be included more than once.
			return nil, fmt.Errorf("%w: field %q is repeated", domain.ErrInvalidRequest, name)
		}
		out[name] = vs[0]
	}
	return out, nil
}

// isForm reports whether the request body is declared form-encoded.
func isForm(c echo.Context) bool {
	mediaType, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	return err == nil && mediaType == echo.MIMEApplicationForm
}

// decodeJSONFields is decodeFields for endpoints a browser page calls with
// fetch: only application/json is accepted, because an HTML form on another
// site can post a form body without a CORS preflight (login CSRF), while a
// cross-origin JSON post needs one.
func decodeJSONFields(c echo.Context, names ...string) (map[string]string, error) {
	mediaType, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != echo.MIMEApplicationJSON {
		return nil, fmt.Errorf("%w: Content-Type must be application/json", domain.ErrInvalidRequest)
	}
	return decodeFields(c, names...)
}
