package gormrepo

import (
	"context"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports"
)

// Module opens DATABASE_URL and provides the SQL backend bound to its ports:
// token store, account directory and admin, console sessions, and a readiness
// pinger in the "pingers" group. With migrate set the schema is brought to the
// latest version at start; otherwise start-up fails on an older schema with a
// message saying to run `devicegate migrate`.
func Module(databaseURL string, migrate bool) fx.Option {
	return fx.Module("gormrepo",
		fx.Provide(
			func(lc fx.Lifecycle) (*DB, error) {
				db, err := Open(context.Background(), databaseURL)
				if err != nil {
					return nil, err
				}
				lc.Append(fx.Hook{
					OnStart: func(ctx context.Context) error {
						if migrate {
							return db.Migrate(ctx)
						}
						return db.CheckSchema(ctx)
					},
					OnStop: func(context.Context) error { return db.Close() },
				})
				return db, nil
			},
			func(db *DB) ports.TokenStore { return db },
			func(db *DB) ports.AccountDirectory { return db },
			func(db *DB) ports.AccountAdmin { return db },
			func(db *DB) ports.ConsoleSessions { return db },
			func(db *DB) ports.SessionPruner { return db },
			func(db *DB) ports.OwnedTokens { return db },
			func(db *DB) ports.RevocationFeed { return db },
			func(db *DB) ports.AccountStatus { return db },
			fx.Annotate(func(db *DB) ports.Pinger { return db }, fx.ResultTags(`group:"pingers"`)),
		),
	)
}
