package passwordhash

import (
	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports"
)

// Module provides the argon2id hasher as ports.PasswordHasher.
var Module = fx.Module("passwordhash",
	fx.Provide(fx.Annotate(New, fx.As(new(ports.PasswordHasher)))),
)
