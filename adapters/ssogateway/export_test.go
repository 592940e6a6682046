package ssogateway

import "time"

// SetTimeout shortens the initiate timeout so a test need not wait 5 s.
func (g *Enterprise) SetTimeout(d time.Duration) { g.timeout = d }
