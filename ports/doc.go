// Package ports declares the small role interfaces the use cases need from
// the outside world (state store, token repository, accounts, sessions, rate
// limiting, signing, audit, clock). Adapters implement them; the conformance
// suites in ports/porttest prove every adapter keeps the same contract.
package ports
