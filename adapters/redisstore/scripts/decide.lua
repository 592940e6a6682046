-- decide.lua: compare-and-set PENDING -> APPROVED/DENIED (domain.Decide).
-- Touches ONE key.
-- KEYS[1]  the flow hash
-- ARGV[1]  now, unix ms (the caller's clock)
-- ARGV[2]  the user code the caller resolved to this flow (must still match)
-- ARGV[3]  '1' approve, '0' deny
-- ARGV[4]  subject JSON (approve only)
-- Returns {'ok', <HGETALL of the updated flow>}, {'not_found'} or {'already_resolved'}.
local key = KEYS[1]
local f = redis.call('HMGET', key, 'exp', 'uc', 'st')
if not f[1] or f[2] ~= ARGV[2] or tonumber(ARGV[1]) >= tonumber(f[1]) then
  return {'not_found'}
end
if f[3] ~= 'pending' then
  return {'already_resolved'}
end
if ARGV[3] == '1' then
  redis.call('HSET', key, 'st', 'approved', 'subj', ARGV[4])
else
  redis.call('HSET', key, 'st', 'denied')
end
return {'ok', redis.call('HGETALL', key)}
