package domain

import "time"

// ConsoleSession is a signed-in browser session of the built-in console. The
// cookie carries the plaintext id; stores keep only IDHash.
type ConsoleSession struct {
	IDHash      string
	AccountID   string
	WorkspaceID string
	CSRFToken   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// SessionLifetime is how long a console session lasts.
const SessionLifetime = 7 * 24 * time.Hour
