package redisstore

import (
	"crypto/sha1" //nolint:gosec // EVALSHA names a script by its SHA-1; not a security use
	_ "embed"
	"encoding/hex"

	"github.com/redis/rueidis"
)

// Each script is run with EVALSHA and falls back to EVAL on NOSCRIPT. None
// is marked retryable: a state transition must not run twice because a reply
// was lost.
var (
	//go:embed scripts/create.lua
	createLua    string
	createScript = rueidis.NewLuaScript(createLua)
	// createSHA1 names createLua in an EVALSHA that Flows.Create batches
	// itself (rueidis' Lua.Exec sends one command per round trip).
	createSHA1 = scriptSHA1(createLua)

	//go:embed scripts/poll.lua
	pollLua    string
	pollScript = rueidis.NewLuaScript(pollLua)

	//go:embed scripts/finish.lua
	finishLua    string
	finishScript = rueidis.NewLuaScript(finishLua)

	//go:embed scripts/release.lua
	releaseLua    string
	releaseScript = rueidis.NewLuaScript(releaseLua)

	//go:embed scripts/decide.lua
	decideLua    string
	decideScript = rueidis.NewLuaScript(decideLua)

	//go:embed scripts/ratelimit.lua
	rateLimitLua    string
	rateLimitScript = rueidis.NewLuaScript(rateLimitLua)

	//go:embed scripts/ratelimit_undo.lua
	rateUndoLua    string
	rateUndoScript = rueidis.NewLuaScript(rateUndoLua)

	//go:embed scripts/putpos.lua
	putPosLua string

	//go:embed scripts/cad.lua
	cadLua    string
	cadScript = rueidis.NewLuaScript(cadLua)

	//go:embed scripts/cas.lua
	casLua    string
	casScript = rueidis.NewLuaScript(casLua)
)

// scriptSHA1 is the name EVALSHA knows script by.
func scriptSHA1(script string) string {
	sum := sha1.Sum([]byte(script)) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:])
}
