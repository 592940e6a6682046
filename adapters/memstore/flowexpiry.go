package memstore

// flowExpiry is one moment at which the flow with hash may be due for removal.
type flowExpiry struct {
	at   int64 // Unix ns
	hash string
}

// expiryHeap is a min-heap of flowExpiry by at, so expiry work looks only
// at flows that are due, never at every live flow. An entry may be stale
// (its flow gone, replaced or given a later moment); whoever pops it checks
// the flow. Typed by hand: container/heap would box every entry.
type expiryHeap []flowExpiry

func (h *expiryHeap) push(e flowExpiry) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[p].at <= q[i].at {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
}

// popDue removes and returns the earliest entry if it is due at now.
func (h *expiryHeap) popDue(now int64) (flowExpiry, bool) {
	q := *h
	if len(q) == 0 || q[0].at > now {
		return flowExpiry{}, false
	}
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = flowExpiry{} // let the hash string go
	q = q[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(q) && q[l].at < q[m].at {
			m = l
		}
		if r := l + 1; r < len(q) && q[r].at < q[m].at {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top, true
}
