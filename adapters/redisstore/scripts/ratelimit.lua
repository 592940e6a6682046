-- ratelimit.lua: sliding-window log in ONE sorted set; one round trip per decision.
-- KEYS[1]  the bucket's sorted set <prefix>rl:<bucket>:{<key hash>}
-- ARGV[1]  now, unix ms (the caller's clock)
-- ARGV[2]  window, ms
-- ARGV[3]  limit (> 0)
-- ARGV[4]  a unique member for this request (random, from the caller)
-- Returns {1, 0} when allowed (and counted), {0, retry-after ms} when refused
-- (not counted): the time until one more request fits, i.e. until the
-- (count - limit + 1)th oldest entry leaves the window. That is the oldest
-- while count == limit; the log can hold more when the limit was lowered.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local last = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
return {0, tonumber(last[2]) + window - now}
