// Command loadgen drives a real devicegate (the built binary, run as a
// subprocess on a loopback port) with keep-alive HTTP workers and reports
// throughput, p50, p99 and error counts per scenario, each as a ratio to a
// floor server measured in the same run by the same generator (see
// docs/PERFORMANCE.md). It exits non-zero when any request got an answer its
// scenario does not expect (a 5xx, a transport error, a wrong status).
// With -scale each backend also runs as a "+scale" twin whose stores are
// seeded first (live token rows, pending flows), and the report adds the
// twin's figures over the empty target's, Redis bytes per pending flow and
// the servers' RSS over the run (scale.go).
package main
