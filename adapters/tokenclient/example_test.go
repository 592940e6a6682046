package tokenclient_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/devicegate/devicegate/adapters/tokenclient"
	"github.com/devicegate/devicegate/adapters/tokenclient/tokenclienttest"
)

// A resource server guards its routes with devicegate tokens. Here a fake
// devicegate stands in; in production BaseURL is devicegate's URL and
// Secret its INTROSPECTION_SECRET, read from the environment.
func Example() {
	devicegate := tokenclienttest.NewServer("introspection-secret")
	defer devicegate.Close()
	devicegate.Add("dfoa_example", tokenclienttest.Account("tok-1", "acc-42", "ada@example.com", time.Now().Add(time.Hour)))

	tokens, err := tokenclient.New(tokenclient.Config{
		BaseURL: devicegate.URL,         // e.g. os.Getenv("DEVICEGATE_URL")
		Secret:  "introspection-secret", // e.g. os.Getenv("DEVICEGATE_INTROSPECTION_SECRET")
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /v1/apps", tokenclient.Middleware(tokens, "apps:run")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			p, _ := tokenclient.PrincipalFrom(r.Context())
			fmt.Fprintf(w, "apps of %s (account %s)", p.Email, p.AccountID)
		})))
	api := httptest.NewServer(mux)
	defer api.Close()

	for _, token := range []string{"dfoa_example", "dfoa_forged"} {
		req, _ := http.NewRequest(http.MethodGet, api.URL+"/v1/apps", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 200 apps of ada@example.com (account acc-42)
	// 401 {"code":"invalid_token","message":"The bearer token is invalid, expired or revoked.","status":401}
}
