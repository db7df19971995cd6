package gate

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestParseValid(t *testing.T) {
	f := func(kv ...string) []Filter {
		var fs []Filter
		for i := 0; i < len(kv); i += 2 {
			fs = append(fs, Filter{Key: kv[i], Pattern: kv[i+1]})
		}
		return fs
	}
	for _, c := range []struct {
		expr string
		want Threshold
	}{
		{"pass_rate >= 0.85", Threshold{Metric: PassRate, Agg: AggValue, Op: GreaterEqual, Value: 0.85}},
		{"pass_rate>=0.85", Threshold{Metric: PassRate, Agg: AggValue, Op: GreaterEqual, Value: 0.85}},
		{"  pass_rate >= 85%  ", Threshold{Metric: PassRate, Agg: AggValue, Op: GreaterEqual, Value: 0.85, Unit: "%"}},
		{"pass_rate{target:gpt} ci_low >= 0.8", Threshold{Metric: PassRate, Filters: f("target", "gpt"), Agg: AggCILow, Op: GreaterEqual, Value: 0.8}},
		{"pass_rate { target : gpt } ci_high > .5", Threshold{Metric: PassRate, Filters: f("target", "gpt"), Agg: AggCIHigh, Op: Greater, Value: 0.5}},
		{"pass_rate{target:openai:gpt-4o*} >= 0.5", Threshold{Metric: PassRate, Filters: f("target", "openai:gpt-4o*"), Agg: AggValue, Op: GreaterEqual, Value: 0.5}},
		{`pass_rate{target:"my model, v2"} >= 0.5`, Threshold{Metric: PassRate, Filters: f("target", "my model, v2"), Agg: AggValue, Op: GreaterEqual, Value: 0.5}},
		{`pass_rate{target:"a\"b"} >= 0.5`, Threshold{Metric: PassRate, Filters: f("target", `a"b`), Agg: AggValue, Op: GreaterEqual, Value: 0.5}},
		{"pass_rate count >= 100", Threshold{Metric: PassRate, Agg: AggCount, Op: GreaterEqual, Value: 100}},
		{"latency p(95) < 2s", Threshold{Metric: Latency, Agg: AggPercentile, P: 95, Op: Less, Value: 2, Unit: "s"}},
		{"latency p( 99.9 ) <= 1.5s", Threshold{Metric: Latency, Agg: AggPercentile, P: 99.9, Op: LessEqual, Value: 1.5, Unit: "s"}},
		{"latency p(95)<500", Threshold{Metric: Latency, Agg: AggPercentile, P: 95, Op: Less, Value: 0.5}},
		{"latency med < 1m", Threshold{Metric: Latency, Agg: AggPercentile, P: 50, Op: Less, Value: 60, Unit: "m"}},
		{"latency < 250us", Threshold{Metric: Latency, Agg: AggMean, Op: Less, Value: 250e-6, Unit: "us"}},
		{"latency max < 1h", Threshold{Metric: Latency, Agg: AggMax, Op: Less, Value: 3600, Unit: "h"}},
		{"latency count >= 10", Threshold{Metric: Latency, Agg: AggCount, Op: GreaterEqual, Value: 10}},
		{"ttft p(50) < 500ms", Threshold{Metric: TTFT, Agg: AggPercentile, P: 50, Op: Less, Value: 0.5, Unit: "ms"}},
		{"ttft min > 20µs", Threshold{Metric: TTFT, Agg: AggMin, Op: Greater, Value: 20e-6, Unit: "µs"}},
		{"error_rate < 0.02", Threshold{Metric: ErrorRate, Agg: AggValue, Op: Less, Value: 0.02}},
		{"error_rate < 2%", Threshold{Metric: ErrorRate, Agg: AggValue, Op: Less, Value: 0.02, Unit: "%"}},
		{"errors < 5", Threshold{Metric: Errors, Agg: AggCount, Op: Less, Value: 5}},
		{"errors{error:rate_limit} rate <= 1%", Threshold{Metric: Errors, Filters: f("error", "rate_limit"), Agg: AggRate, Op: LessEqual, Value: 0.01, Unit: "%"}},
		{"score{suite:support,split:test} mean >= 0.7", Threshold{Metric: Score, Filters: f("suite", "support", "split", "test"), Agg: AggMean, Op: GreaterEqual, Value: 0.7}},
		{"score avg >= 0.7", Threshold{Metric: Score, Agg: AggMean, Op: GreaterEqual, Value: 0.7}},
		{"score p(10) > 0", Threshold{Metric: Score, Agg: AggPercentile, P: 10, Op: Greater, Value: 0}},
		{"cost sum < 5", Threshold{Metric: Cost, Agg: AggSum, Op: Less, Value: 5}},
		{"cost < $5", Threshold{Metric: Cost, Agg: AggSum, Op: Less, Value: 5, Unit: "$"}},
		{"cost p(99) < $0.01", Threshold{Metric: Cost, Agg: AggPercentile, P: 99, Op: Less, Value: 0.01, Unit: "$"}},
		{"tokens sum < 1e6", Threshold{Metric: Tokens, Agg: AggSum, Op: Less, Value: 1e6}},
		{"output_tokens mean <= 512", Threshold{Metric: OutputTokens, Agg: AggMean, Op: LessEqual, Value: 512}},
		{"input_tokens max < 8000", Threshold{Metric: InputTokens, Agg: AggMax, Op: Less, Value: 8000}},
		{"tokens_per_second avg > 20", Threshold{Metric: TokensPerSecond, Agg: AggMean, Op: Greater, Value: 20}},
		{"cases >= 100", Threshold{Metric: Cases, Agg: AggCount, Op: GreaterEqual, Value: 100}},
		{"cases{split:test} == 60", Threshold{Metric: Cases, Filters: f("split", "test"), Agg: AggCount, Op: Equal, Value: 60}},
		{"errors != 0", Threshold{Metric: Errors, Agg: AggCount, Op: NotEqual, Value: 0}},
		{"delta(pass_rate) >= -0.02", Threshold{Metric: PassRate, Delta: true, Agg: AggCILow, Op: GreaterEqual, Value: -0.02}},
		{"delta(pass_rate) >= -2%", Threshold{Metric: PassRate, Delta: true, Agg: AggCILow, Op: GreaterEqual, Value: -0.02, Unit: "%"}},
		{"delta(pass_rate) < 0.1", Threshold{Metric: PassRate, Delta: true, Agg: AggCIHigh, Op: Less, Value: 0.1}},
		{"delta(score) ci_low >= -0.05", Threshold{Metric: Score, Delta: true, Agg: AggCILow, Op: GreaterEqual, Value: -0.05}},
		{"delta(score{split:test}) value > 0", Threshold{Metric: Score, Delta: true, Filters: f("split", "test"), Agg: AggValue, Op: Greater, Value: 0}},
		{"delta( pass_rate ) count >= 50", Threshold{Metric: PassRate, Delta: true, Agg: AggCount, Op: GreaterEqual, Value: 50}},
	} {
		t.Run(c.expr, func(t *testing.T) {
			got, err := Parse(c.expr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Expr == "" || got.Expr != got.String() {
				t.Errorf("Expr %q, String %q", got.Expr, got.String())
			}
			if math.Abs(got.Value-c.want.Value) > 1e-12*math.Max(1, math.Abs(c.want.Value)) {
				t.Errorf("Value = %g, want %g", got.Value, c.want.Value)
			}
			got.Value, c.want.Value = 0, 0
			got.Expr = ""
			got.metricCol, got.aggCol, got.valueCol = 0, 0, 0
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Parse(%q)\n got  %+v\n want %+v", c.expr, got, c.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		expr string
		col  int
		msg  string
	}{
		{"", 1, "empty threshold; expected a metric such as pass_rate"},
		{"   ", 1, "empty threshold; expected a metric such as pass_rate"},
		{"pass_rat >= 0.8", 1, `unknown metric "pass_rat"; did you mean "pass_rate"?`},
		{"Pass_Rate >= 0.8", 1, `unknown metric "Pass_Rate"; did you mean "pass_rate"?`},
		{"accuracy >= 0.8", 1, `unknown metric "accuracy"`},
		{"$5 > cost", 1, `expected a metric name, found "$5"`},
		{"pass_rate", 10, "expected a comparison (<, <=, >, >=, ==, !=) after pass_rate"},
		{"pass_rate ci_low", 17, "expected a comparison (<, <=, >, >=, ==, !=) after pass_rate ci_low"},
		{"pass_rate >=", 13, "expected a number after >="},
		{"pass_rate >= abc", 14, `expected a number, found "abc"`},
		{"pass_rate >= -", 15, `expected a number, found "end of input"`},
		{"pass_rate => 0.8", 11, `unknown comparison "=>"; did you mean ">="?`},
		{"pass_rate =< 0.8", 11, `unknown comparison "=<"; did you mean "<="?`},
		{"pass_rate = 0.8", 11, `"=" is not a comparison; use "==" for equality`},
		{"pass_rate <> 0.8", 11, `unknown comparison "<>"; use <, <=, >, >=, == or !=`},
		{"pass_rate # 0.8", 11, `expected a comparison (<, <=, >, >=, ==, !=), found "#"`},
		{"pass_rate >= 0.8 extra", 18, `unexpected "extra" after the value`},
		{"pass_rate >= 85", 14, "pass_rate is a fraction between 0 and 1; write 0.85 or 85%"},
		{"pass_rate >= 150", 14, "pass_rate is a fraction between 0 and 1, not 150"},
		{"error_rate < -0.1", 14, "error_rate is a fraction between 0 and 1, not -0.1"},
		{"pass_rate >= 0.8s", 17, `unit "s" does not apply to pass_rate; use a fraction (0.85) or a percentage (85%)`},
		{"pass_rate >= 85 %", 17, `unexpected "%" after the value; write the unit right after the number, as in 85%`},
		{"pass_rate ci_lo >= 0.8", 11, `unknown aggregation "ci_lo"; did you mean "ci_low"?`},
		{"pass_rate p(95) >= 0.8", 11, "aggregation p(95) does not apply to pass_rate; use value, rate, ci_low, ci_high or count"},
		{"pass_rate count >= 10ms", 22, `unit "ms" does not apply to a count; a count is a plain number`},
		{"latency p95 < 2s", 9, `unknown aggregation "p95"; did you mean "p(95)"?`},
		{"latency p99.9 < 2s", 9, `unknown aggregation "p99.9"; did you mean "p(99.9)"?`},
		{"latency p 95 < 2s", 11, `expected "(" after p, as in p(95)`},
		{"latency p(95 < 2s", 14, `expected ")" to close p(95, found "<"`},
		{"latency p() < 2s", 11, `expected a percentile between 0 and 100 in p(…), found ")"`},
		{"latency p(101) < 2s", 9, "percentile 101 is outside [0, 100]"},
		{"latency ci_low < 2s", 9, "aggregation ci_low does not apply to latency; use mean (avg), min, max, p(N) (med) or count"},
		{"latency sum < 2s", 9, "aggregation sum does not apply to latency; use mean (avg), min, max, p(N) (med) or count"},
		{"latency p(95) < 2 s", 19, `unexpected "s" after the value; write the unit right after the number, as in 2s`},
		{"latency p(95) < 2kg", 18, `unknown unit "kg" for latency; use ns, us, µs, ms, s, m or h`},
		{"latency p(95) < 5%", 18, `unit "%" does not apply to latency; use a duration such as 500ms or 2s`},
		{"latency p(95) < $5", 17, `unit "$" does not apply to latency; use a duration such as 500ms or 2s`},
		{"latency p(95) < 1m30s", 19, `unexpected "30s" after the value`},
		{"cost sum < 5%", 13, `unit "%" does not apply to cost; write dollars, as in $5 or 5`},
		{"cost < $5usd", 10, `unexpected unit "usd" after a dollar amount`},
		{"tokens < 10k", 12, `tokens takes a plain number, without the unit "k"`},
		{"score ci_hi >= 0.5", 7, `unknown aggregation "ci_hi"; did you mean "ci_high"?`},
		{"score ci_mid >= 0.5", 7, `unknown aggregation "ci_mid"`},
		{"score rate >= 0.5", 7, "aggregation rate does not apply to score; use mean (avg), value, ci_low, ci_high, min, max, p(N) (med) or count"},
		{"cases mean > 3", 7, "aggregation mean does not apply to cases; use count or value"},
		{"pass_rate{target} >= 0.8", 17, `expected ":" after filter key "target"`},
		{"pass_rate{target:} >= 0.8", 18, `expected a value after "target:"`},
		{"pass_rate{target:gpt >= 0.8", 22, `expected "," or "}" in filter, found ">="`},
		{"pass_rate{target:gpt", 21, `unterminated filter; expected "}"`},
		{"pass_rate{target:a,target:b} >= 0.8", 20, `duplicate filter key "target"`},
		{"pass_rate{} >= 0.8", 10, "empty filter; write {key:value}"},
		{"pass_rate{1x:a} >= 0.8", 11, `expected a filter key, found "1x:a"`},
		{`pass_rate{target:"gpt} >= 0.8`, 18, "unterminated quoted value"},
		{"delta >= 0", 7, `expected "(" after delta, as in delta(pass_rate)`},
		{"delta() >= 0", 7, `expected a metric name after delta(, found ")"`},
		{"delta(latency) < 1s", 7, "delta applies to pass_rate and score only, not latency"},
		{"delta(pass_rat) >= 0", 7, `unknown metric "pass_rat"; did you mean "pass_rate"?`},
		{"delta(pass_rate >= 0", 17, `expected ")" to close delta(pass_rate, found ">="`},
		{"delta(pass_rate){suite:x} >= 0", 17, "put the filter inside delta(…), as in delta(pass_rate{key:value})"},
		{"delta(pass_rate) == 0", 18, "delta(pass_rate) with == needs an aggregation: ci_low, ci_high or value"},
		{"delta(pass_rate) p(95) >= 0", 18, "aggregation p(95) does not apply to delta(pass_rate); use ci_low, ci_high, value or count"},
		{"delta(score) >= -5", 17, "delta(score) is a difference of fractions between -1 and 1; write -0.05 or -5%"},
		{"pass_rate >= 1e999", 14, `expected a number, found "1e999"`},
	} {
		t.Run(c.expr, func(t *testing.T) {
			_, err := Parse(c.expr)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error = %v, want a *ParseError", c.expr, err)
			}
			if pe.Col != c.col || pe.Msg != c.msg {
				t.Errorf("Parse(%q)\n got  col %d: %s\n want col %d: %s", c.expr, pe.Col, pe.Msg, c.col, c.msg)
			}
			if Check(c.expr) == nil {
				t.Error("Check accepted what Parse rejected")
			}
		})
	}
}

func TestParseErrorText(t *testing.T) {
	_, err := Parse("latency p95 < 2s")
	want := `threshold "latency p95 < 2s": col 9: unknown aggregation "p95"; did you mean "p(95)"?`
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %v\nwant       %s", err, want)
	}
	var pe *ParseError
	errors.As(err, &pe)
	wantCaret := "latency p95 < 2s\n        ^ unknown aggregation \"p95\"; did you mean \"p(95)\"?"
	if pe.Caret() != wantCaret {
		t.Errorf("Caret() =\n%s\nwant\n%s", pe.Caret(), wantCaret)
	}
	// Columns count characters, not bytes.
	_, err = Parse("ttft{tag:µµ} p(50) < 5xs")
	if !errors.As(err, &pe) || pe.Col != 23 {
		t.Errorf("column after multi-byte runes = %v, want col 23", err)
	}
}

func TestValidateHandBuilt(t *testing.T) {
	for _, c := range []struct {
		th   Threshold
		want string // "" for valid
	}{
		{Threshold{Metric: Latency, Agg: AggPercentile, P: 95, Op: Less, Value: 2}, ""},
		{Threshold{Metric: Latency, Agg: AggCILow, Op: Less, Value: 2}, "aggregation ci_low does not apply to latency; use mean (avg), min, max, p(N) (med) or count"},
		{Threshold{Metric: "accuracy", Op: Less, Value: 2}, `unknown metric "accuracy"`},
		{Threshold{Metric: PassRate, Op: "~", Value: 0.5}, `unknown comparison "~"`},
		{Threshold{Metric: PassRate, Delta: true, Op: GreaterEqual, Value: -0.02}, ""},
		{Threshold{Metric: Cost, Delta: true, Op: Less, Value: 1}, "delta applies to pass_rate and score only, not cost"},
		{Threshold{Metric: Score, Op: Greater, Value: math.NaN()}, "the value must be a finite number"},
	} {
		err := c.th.Validate()
		var got string
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Validate error %v is not a *ParseError", err)
			}
			got = pe.Msg
		}
		if got != c.want {
			t.Errorf("Validate(%s) = %q, want %q", c.th.String(), got, c.want)
		}
	}
}

func TestScoped(t *testing.T) {
	th, err := Parse("pass_rate >= 0.8")
	if err != nil {
		t.Fatal(err)
	}
	s := th.Scoped("suite", "support")
	if !reflect.DeepEqual(s.Filters, []Filter{{"suite", "support"}}) || len(th.Filters) != 0 {
		t.Errorf("Scoped: %v (original %v)", s.Filters, th.Filters)
	}
	if again := s.Scoped("suite", "other"); again.Filters[0].Pattern != "support" {
		t.Error("Scoped overrode an explicit filter")
	}
}
