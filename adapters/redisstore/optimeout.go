package redisstore

// OpTimeout caps one adapter call (all of its round trips): past it the call
// fails with domain.ErrUnavailable, which the HTTP edge answers as 503.
// Exported so that outage tests elsewhere derive their bounds from it
// instead of restating it.
const OpTimeout = opTimeout
