-- release.lua: return a claimed flow to APPROVED only while it is claimed by
-- this claim id (domain.ReleaseClaim), so a later poll retries the mint.
-- Touches ONE key.
-- KEYS[1]  the flow hash
-- ARGV[1]  the claim id
-- Returns 1 when released, 0 when the claim was lost.
local f = redis.call('HMGET', KEYS[1], 'st', 'cl')
if f[1] ~= 'claimed' or f[2] ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'st', 'approved')
redis.call('HDEL', KEYS[1], 'cl', 'clx')
return 1
