package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// A server that is down (it accepts each connection and drops it at once)
// and 2,000 cases: the circuit breaker stops the run from hammering it. The
// connection attempts stay near the breaker's threshold, and every result
// records why (circuit_open naming the dropped connection).
func TestRunAgainstADeadServerStopsSending(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	c := newCLI(t, map[string]string{"LLAMACPP_BASE_URL": "http://" + ln.Addr().String() + "/v1"})
	out := filepath.Join(c.dir, "run")
	const concurrency = 4
	code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "llamacpp:qwen", "--repeat", "200", "-c", "4", "-q", "--no-cache", "--out", out)
	if code == exitOK || code == exitUsage {
		t.Fatalf("exit %d against a dead server\n%s", code, c.stderr.String())
	}
	if n := conns.Load(); n > providers.DefaultBreakerThreshold+concurrency {
		t.Errorf("%d connections for 2,000 cases; the breaker should stop at about %d", n, providers.DefaultBreakerThreshold)
	}
	f, err := os.Open(filepath.Join(out, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, open := 0, 0
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		total++
		if r.Error != nil && r.Error.Kind == providers.KindCircuitOpen {
			open++
			if !strings.Contains(r.Error.Message, "consecutive failures") || !strings.Contains(r.Error.Message, "unavailable") {
				t.Fatalf("circuit_open message %q does not name the cause", r.Error.Message)
			}
		}
	}
	if total != 2000 || open < total-concurrency-providers.DefaultBreakerThreshold {
		t.Errorf("%d results, %d circuit_open; want 2000, nearly all circuit_open", total, open)
	}
}
