// Command devicegate runs the device-flow service (serve), applies database
// migrations (migrate), manages built-in accounts (accounts create) and
// prunes old token rows (prune). The fx graph is assembled here and nowhere else.
package main
