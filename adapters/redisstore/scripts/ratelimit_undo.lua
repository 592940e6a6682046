-- ratelimit_undo.lua: take back one request counted by ratelimit.lua.
-- KEYS[1]  the bucket's sorted set <prefix>rl:<bucket>:{<key hash>}
-- ARGV[1]  the now (unix ms) the request was counted at
-- Removes one member scored exactly ARGV[1] (any one: members of one
-- millisecond are interchangeable) and returns how many it removed (0 or 1).
-- The key's expiry stays: it already covers the newest member left.
local key = KEYS[1]
local m = redis.call('ZRANGEBYSCORE', key, ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if #m == 0 then
  return 0
end
return redis.call('ZREM', key, m[1])
