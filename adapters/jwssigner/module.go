package jwssigner

import (
	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports"
)

// Module provides the signer for SECRET_KEY (and SECRET_KEY_PREVIOUS) bound to ports.Signer.
func Module(secret, previous string) fx.Option {
	return fx.Module("jwssigner",
		fx.Provide(fx.Annotate(func() (*Signer, error) { return New(secret, previous) }, fx.As(new(ports.Signer)))),
	)
}
