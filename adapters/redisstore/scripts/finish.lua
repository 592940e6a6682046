-- finish.lua: delete the flow only while it is claimed by this claim id
-- (domain.FinishClaim). Touches ONE key.
-- KEYS[1]  the flow hash
-- ARGV[1]  the claim id
-- Returns {1, <user code>} when deleted, {0} when the claim was lost.
local f = redis.call('HMGET', KEYS[1], 'st', 'cl', 'uc')
if f[1] ~= 'claimed' or f[2] ~= ARGV[1] then
  return {0}
end
redis.call('DEL', KEYS[1])
return {1, f[3]}
