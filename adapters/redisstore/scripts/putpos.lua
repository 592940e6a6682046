-- putpos.lua: store a positive bearer-cache entry, unless KEYS[1] holds a
-- negative entry or an invalidation: a revoked, rotated-away or unknown hash
-- never becomes valid again, so such a Put can only be a database read that
-- raced the revocation (see TokenCache.Put). Touches ONE key.
-- ARGV[1]  the encoded positive entry (binary, version byte 0x01: it never begins with {"n":)
-- ARGV[2]  ttl, ms
-- Returns 1 when stored, 0 when refused.
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 5) == '{"n":' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
