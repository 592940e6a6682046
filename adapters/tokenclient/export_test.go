package tokenclient

// Joined reports how many callers are waiting on the in-flight call for
// token instead of making their own (-1 when none is in flight). It lets the
// external tests prove coalescing rather than caching.
func (c *Client) Joined(token string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.flights[keyOf(token)]
	if !ok {
		return -1
	}
	return f.dups
}

// CacheLen reports the number of cached verdicts.
func (c *Client) CacheLen() int {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	return c.cache.order.Len()
}
