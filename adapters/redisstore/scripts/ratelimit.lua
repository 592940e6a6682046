-- ratelimit.lua: sliding-window log in ONE sorted set; one round trip per decision.
-- KEYS[1]  the bucket's sorted set <prefix>rl:<bucket>:{<key hash>}
-- ARGV[1]  now, unix ms (the caller's clock)
-- ARGV[2]  window, ms
-- ARGV[3]  limit (> 0)
-- ARGV[4]  a unique member for this request (random, from the caller)
-- Returns {1, 0} when allowed (and counted), {0, retry-after ms} when refused
-- (not counted): the time until the oldest entry leaves the window.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < tonumber(ARGV[3]) then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
