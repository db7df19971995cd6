package main

import (
	"context"
	"errors"
	"iter"
	"os"
	"sync"

	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/registry"
	"github.com/yardstick-eval/yardstick/suites"
	"github.com/yardstick-eval/yardstick/suites/builtin"
)

// judgeMode says how judge scorers get their model.
type judgeMode int

const (
	judgeOffline judgeMode = iota // resolve the judge target only; calling it is an error (validate, export, report)
	judgeLive                     // build the judge provider with its decorators (run)
)

// suiteLoadOptions validates suite thresholds with the gate's parser, so a
// bad threshold is reported with its file:line before anything runs, and
// gives judge scorers their provider.
//
// Live judges are priced (registry.Build's Built.Price) so their grading
// cost is recorded and counted toward --budget; offline judges are not.
func (a *app) suiteLoadOptions(mode judgeMode, ropts registry.Options) suites.LoadOptions {
	var mu sync.Mutex
	prices := map[string]*providers.Price{} // target → price of the judge Judge built
	return suites.LoadOptions{
		ValidateThreshold: gate.Check,
		Judge: func(target string) (providers.Provider, string, error) {
			cfg, err := registry.Resolve(target, a.conf.Providers)
			if err != nil {
				return nil, "", err
			}
			if mode == judgeOffline {
				return offlineJudge{target}, cfg.Model, nil
			}
			b, err := registry.Build(cfg, ropts)
			if err != nil {
				return nil, "", err
			}
			mu.Lock()
			prices[target] = b.Price
			mu.Unlock()
			return b.Provider, b.Model, nil
		},
		JudgePrice: func(target string) *providers.Price {
			mu.Lock()
			defer mu.Unlock()
			return prices[target]
		},
	}
}

// offlineJudge stands in for a judge model where none may be called.
type offlineJudge struct{ target string }

func (j offlineJudge) Generate(context.Context, *providers.Request) (*providers.Response, error) {
	return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: "judge", Message: "judge " + j.target + " is not called outside 'yardstick run'"}
}

// loadSuite loads a suite from a file, a folder holding suite.yaml, or a
// built-in suite by name. origin records which.
func loadSuite(arg string, opts suites.LoadOptions) (*suites.Suite, string, error) {
	origin := arg
	if _, err := os.Stat(arg); err != nil {
		origin = "builtin:" + arg
	}
	s, err := builtin.Resolve(arg, opts)
	return s, origin, err
}

// loadedSuite is a suite with where it came from.
type loadedSuite struct {
	*suites.Suite
	origin string // path as given, or "builtin:NAME"
}

// loadSuites loads every suite argument; all errors are reported together.
func loadSuites(args []string, opts suites.LoadOptions) ([]loadedSuite, error) {
	var out []loadedSuite
	var errs []error
	for _, arg := range args {
		s, origin, err := loadSuite(arg, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, loadedSuite{s, origin})
	}
	if len(errs) > 0 {
		return nil, usageErr(errors.Join(errs...))
	}
	return out, nil
}

// suiteThresholds parses the thresholds declared in the suites.
func suiteThresholds(ss []loadedSuite) ([]gate.Threshold, error) {
	var out []gate.Threshold
	for _, s := range ss {
		for _, th := range s.Thresholds {
			t, err := gate.Parse(th.Expr)
			if err != nil {
				return nil, usageErrf("%s: thresholds: %v", th.Source, err)
			}
			t.Source = th.Source
			// A suite's thresholds judge that suite's results only.
			out = append(out, t.Scoped("suite", s.Name))
		}
	}
	return out, nil
}

// flagThresholds parses --threshold values.
func flagThresholds(exprs []string) ([]gate.Threshold, error) {
	var out []gate.Threshold
	for _, e := range exprs {
		t, err := gate.Parse(e)
		if err != nil {
			return nil, usageErrf("--threshold: %v", err)
		}
		t.Source = "--threshold"
		out = append(out, t)
	}
	return out, nil
}

// checkDeltaBaseline refuses delta() thresholds when no baseline was given:
// judged without one they can only fail, so this is a configuration error,
// found before any call.
func checkDeltaBaseline(ths []gate.Threshold, haveBaseline bool) error {
	if haveBaseline {
		return nil
	}
	for _, t := range ths {
		if t.Delta {
			return usageErrf("%s: threshold %q needs --baseline FILE to compare with", t.Source, t.Expr)
		}
	}
	return nil
}

// allCases chains the suites' cases in order.
func allCases(ss []loadedSuite, opts suites.CasesOptions) iter.Seq2[*bench.Case, error] {
	return func(yield func(*bench.Case, error) bool) {
		for _, s := range ss {
			for c, err := range s.Cases(opts) {
				if !yield(c, err) {
					return
				}
			}
		}
	}
}

// checkCases renders every selected case once before anything is sent, so a
// bad dataset row stops the run before it spends money. It returns the number
// of cases per suite.
func checkCases(ss []loadedSuite, opts suites.CasesOptions) ([]int, error) {
	counts := make([]int, len(ss))
	var errs []error
	for i, s := range ss {
		for _, err := range s.Cases(opts) {
			if err != nil {
				errs = append(errs, err)
				if len(errs) >= 20 {
					errs = append(errs, errors.New("… stopping after 20 errors"))
					return nil, usageErr(errors.Join(errs...))
				}
				continue
			}
			counts[i]++
		}
	}
	if len(errs) > 0 {
		return nil, usageErr(errors.Join(errs...))
	}
	return counts, nil
}
