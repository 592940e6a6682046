package gormrepo

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// sqliteCheckpointEvery is how often the background checkpointer copies the
// SQLite write-ahead log back into the database file.
const sqliteCheckpointEvery = 200 * time.Millisecond

// checkpointer moves SQLite's WAL checkpoints off the request path. With
// SQLite's default (wal_autocheckpoint 1000 pages), the commit that crosses
// the threshold runs the checkpoint itself, inline, and a checkpoint under
// synchronous=NORMAL is where the WAL and the database file are synced: one
// mint or revoke in about a hundred (each writes a token row and its eight
// indexes) paid two fsyncs and several milliseconds, which was the p99 of
// every write at low concurrency. The writer now never checkpoints
// (wal_autocheckpoint 0); this goroutine runs a PASSIVE checkpoint on its own
// connection every sqliteCheckpointEvery when something was committed since
// the last one. PASSIVE never blocks the writer or the readers; the final
// checkpoint happens when the writer closes.
type checkpointer struct {
	conn  *sql.DB
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	moved atomic.Int64 // checkpoints that copied at least one frame
}

// startCheckpointer opens one connection on dsn and starts the loop.
func startCheckpointer(dsn string) (*checkpointer, error) {
	_, conn, err := openSQLitePool(dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	c := &checkpointer{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer close(c.done)
	tick := time.NewTicker(sqliteCheckpointEvery)
	defer tick.Stop()
	seen := int64(-1)
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), maintenanceTimeout)
		// data_version changes when another connection commits: a quiet
		// database costs one cheap pragma per tick and no sync.
		var version int64
		if err := c.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&version); err == nil && version != seen {
			var busy, logFrames, copied int64
			err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
			if err == nil {
				seen = version
				if copied > 0 {
					c.moved.Add(1)
				}
			}
			// On an error the next tick tries again; the writer's close
			// checkpoints whatever is left.
		}
		cancel()
	}
}

// close stops the loop and closes its connection; a second close does nothing.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}
