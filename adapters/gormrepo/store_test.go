package gormrepo_test

import (
	"testing"

	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

func TestSQLiteTokenStore(t *testing.T) {
	porttest.TestTokenStore(t, func(t *testing.T) ports.TokenStore { db, _ := openSQLite(t, false); return db })
}

func TestSQLiteAccounts(t *testing.T) {
	porttest.TestAccounts(t, func(t *testing.T) porttest.AccountStore { db, _ := openSQLite(t, false); return db })
}

func TestSQLiteConsoleSessions(t *testing.T) {
	porttest.TestConsoleSessions(t, func(t *testing.T) ports.ConsoleSessions { db, _ := openSQLite(t, false); return db })
}

func TestPostgresTokenStore(t *testing.T) {
	postgresDSN(t)
	porttest.TestTokenStore(t, func(t *testing.T) ports.TokenStore { return openPostgres(t, false) })
}

func TestPostgresAccounts(t *testing.T) {
	postgresDSN(t)
	porttest.TestAccounts(t, func(t *testing.T) porttest.AccountStore { return openPostgres(t, false) })
}

func TestPostgresConsoleSessions(t *testing.T) {
	postgresDSN(t)
	porttest.TestConsoleSessions(t, func(t *testing.T) ports.ConsoleSessions { return openPostgres(t, false) })
}

func TestSQLiteOwnedTokens(t *testing.T) {
	porttest.TestOwnedTokens(t, func(t *testing.T) porttest.OwnedTokenStore { db, _ := openSQLite(t, false); return db })
}

func TestSQLiteAccountStatus(t *testing.T) {
	porttest.TestAccountStatus(t, func(t *testing.T) porttest.AccountStatusStore { db, _ := openSQLite(t, false); return db })
}

func TestPostgresOwnedTokens(t *testing.T) {
	postgresDSN(t)
	porttest.TestOwnedTokens(t, func(t *testing.T) porttest.OwnedTokenStore { return openPostgres(t, false) })
}

func TestPostgresAccountStatus(t *testing.T) {
	postgresDSN(t)
	porttest.TestAccountStatus(t, func(t *testing.T) porttest.AccountStatusStore { return openPostgres(t, false) })
}
