package deviceclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/devicegate/devicegate/cmd/devicectl/deviceclient"
)

// A CLI signs in, keeps the token, and calls the API with it.
func Example() {
	ctx := context.Background()
	md, err := deviceclient.Discover(ctx, http.DefaultClient, "https://auth.example.com")
	if err != nil {
		log.Fatal(err) // errors.Is(err, deviceclient.ErrUnreachable): the server is down
	}
	login, err := deviceclient.StartLogin(ctx, http.DefaultClient, md, "difyctl", "my laptop")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Open", login.Auth.VerificationURI, "and confirm the code", login.Auth.UserCode)
	tok, err := login.Wait(ctx)
	switch {
	case errors.Is(err, deviceclient.ErrDenied), errors.Is(err, deviceclient.ErrExpired):
		log.Fatal(err) // start again
	case err != nil:
		log.Fatal(err)
	}
	dir, _ := deviceclient.DefaultDir()
	if err := (deviceclient.Store{Dir: dir}).Save(tok); err != nil {
		log.Fatal(err)
	}
	me, err := (&deviceclient.Client{APIBase: tok.APIBase, Token: tok.AccessToken}).Me(ctx)
	if errors.Is(err, deviceclient.ErrUnauthorized) {
		log.Fatal("revoked or expired: sign in again")
	}
	fmt.Println("signed in as", me.SubjectEmail)
}
