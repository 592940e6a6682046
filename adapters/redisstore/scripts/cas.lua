-- cas.lua: compare-and-set on ONE string key: replace KEYS[1]'s value ARGV[1]
-- with ARGV[2] for ARGV[3] ms, only if it still holds ARGV[1] (used to take
-- over a user-code index entry whose flow is gone or expired).
-- Returns 1 when replaced, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
