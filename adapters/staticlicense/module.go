package staticlicense

import (
	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports"
)

// Module provides the static license for EDITION and LICENSE_STATUS bound to ports.License.
func Module(edition, status string) fx.Option {
	return fx.Module("staticlicense",
		fx.Provide(fx.Annotate(func() *License { return New(edition, status) }, fx.As(new(ports.License)))),
	)
}
