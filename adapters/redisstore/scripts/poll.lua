-- poll.lua: one atomic poll on ONE flow hash; restates domain.Poll (SPEC 2.3)
-- check for check, in the same order.
-- KEYS[1]  the flow hash
-- ARGV[1]  client id of the poll
-- ARGV[2]  claim id to record should this poll claim the approval
-- ARGV[3]  now, unix ms (the caller's clock, never the Redis clock)
-- ARGV[4]  slow-down step, ms
-- ARGV[5]  claim lease expiry, unix ms (now + lease, computed by the caller)
-- ARGV[6]  S256 challenge of the poll's code_verifier, '' when it sent none
--          (computed by the caller: Redis Lua has no SHA-256)
-- ARGV[7]  poll tolerance, ms (domain.PollTolerance: how early a poll may be)
-- Returns {'claimed', <HGETALL of the claimed flow>}, or {code} / {code, user code}
-- where code is expired_token, invalid_grant, invalid_verifier, slow_down,
-- authorization_pending or access_denied; the user code is returned whenever
-- the flow was deleted.
local key = KEYS[1]
local f = redis.call('HMGET', key, 'exp', 'cid', 'lp', 'ivl', 'st', 'clx', 'uc', 'pkce')
local now = tonumber(ARGV[3])

-- same compares two strings without stopping at the first difference
-- (crypto/subtle.ConstantTimeCompare: only the lengths, public, end it early).
local function same(a, b)
  if #a ~= #b then
    return false
  end
  local diff = 0
  for i = 1, #a do
    if string.byte(a, i) ~= string.byte(b, i) then
      diff = diff + 1
    end
  end
  return diff == 0
end

-- 1. unknown or expired at now (an expired flow is deleted unless claimed with a live lease)
if not f[1] then
  return {'expired_token'}
end
if now >= tonumber(f[1]) then
  -- kept while a claim's lease runs, so its claimant can still finish
  if f[5] == 'claimed' and now < (tonumber(f[6]) or 0) then
    return {'expired_token'}
  end
  redis.call('DEL', key)
  return {'expired_token', f[7]}
end

-- 2. another client's device code
if f[2] ~= ARGV[1] then
  return {'invalid_grant'}
end
-- PKCE: the verifier's S256 must equal the stored challenge ('' = none on
-- both sides); a refusal changes nothing, like the client check
if not same(f[8] or '', ARGV[6]) then
  return {'invalid_verifier'}
end

-- 3. too soon (earlier than the interval less the tolerance): the interval
-- grows by the step; the last-poll time moves on every poll that passed the
-- client check
local interval = tonumber(f[4])
local tooSoon = f[3] and (now - tonumber(f[3])) < interval - tonumber(ARGV[7])
if tooSoon then
  redis.call('HSET', key, 'lp', ARGV[3], 'ivl', interval + tonumber(ARGV[4]))
  return {'slow_down'}
end
redis.call('HSET', key, 'lp', ARGV[3])

-- 4-6. by state
local st = f[5]
if st == 'denied' then
  redis.call('DEL', key)
  return {'access_denied', f[7]}
end
if st == 'approved' or (st == 'claimed' and now >= (tonumber(f[6]) or 0)) then
  redis.call('HSET', key, 'st', 'claimed', 'cl', ARGV[2], 'clx', ARGV[5])
  return {'claimed', redis.call('HGETALL', key)}
end
return {'authorization_pending'}
