-- create.lua: store a new flow hash (SPEC 2.2). Touches ONE key.
-- KEYS[1]  the flow hash <prefix>flow:{<device code hash>}
-- ARGV[1]  key lifetime in ms (Redis frees memory; the caller's now decides expiry)
-- ARGV[2..] field/value pairs of the flow
-- Returns 1 when stored, 0 when the key already exists (nothing is written).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
