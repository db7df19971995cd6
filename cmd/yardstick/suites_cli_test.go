package main

import (
	"context"
	"strings"
	"testing"
)

func TestSuitesScorers(t *testing.T) {
	c := newCLI(t, nil)
	if code := c.run(context.Background(), "suites", "scorers"); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	for _, want := range []string{"choice\n", "numeric\n", "judge\n", "not-", "default normalize: trim", "nospace"} {
		if !strings.Contains(c.stdout.String(), want) {
			t.Errorf("suites scorers output lacks %q", want)
		}
	}
	if code := c.run(context.Background(), "suites", "scorers", "numeric", "choice"); code != exitOK || strings.Contains(c.stdout.String(), "icontains") {
		t.Errorf("suites scorers numeric choice: exit %d\n%s", code, c.stdout.String())
	}
	if code := c.run(context.Background(), "suites", "scorers", "numerc"); code != exitUsage || !strings.Contains(c.stderr.String(), `did you mean "numeric"?`) {
		t.Errorf("unknown type: exit %d\n%s", code, c.stderr.String())
	}
}
