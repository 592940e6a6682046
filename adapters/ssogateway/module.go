package ssogateway

import (
	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports"
)

// EnterpriseModule provides the enterprise gateway bound to ports.SSOGateway.
func EnterpriseModule(baseURL, secret string) fx.Option {
	return fx.Module("ssogateway",
		fx.Provide(fx.Annotate(func() *Enterprise { return NewEnterprise(baseURL, secret) }, fx.As(new(ports.SSOGateway)))),
	)
}
