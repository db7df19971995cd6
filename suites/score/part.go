package score

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/suites/internal/tmpl"
)

// judge is one scorer type's logic. refs are the rendered reference values
// (nil for refNone types), already accepted by checkRefs.
type judge interface {
	judge(out string, refs []string) verdict
	checkRefs(refs []string) error
}

// wholeJudge is a judge that reads an unextracted answer differently from an
// extracted one (numeric: the last number rather than the first).
type wholeJudge interface {
	judgeWhole(out string, refs []string) verdict
}

// caseJudge is a judge that needs the whole case and a context, because it
// calls a model (the judge scorer type). check is Part.Check's work and
// returns a *RefError; grade is called only for cases check accepts, and its
// error means the answer could not be graded.
type caseJudge interface {
	check(c *bench.Case) error
	grade(ctx context.Context, c *bench.Case, out string) (verdict, error)
}

// verdict is a judge's answer. reason explains a failure; on a pass it states
// what was observed (used, among others, by not- negation).
type verdict struct {
	value  float64 // in [0, 1]
	pass   bool
	reason string
	// neutral: reason describes the judgement whatever its outcome (a
	// grader's verdict and reasoning), so negation keeps it on a pass.
	neutral bool
	// calls is the accounting of a model-calling judge's requests; nil for
	// judges that call no model.
	calls *callUsage
}

// callUsage accounts a judge's model calls for one answer.
type callUsage struct {
	usage  providers.Usage
	cost   *float64 // nil: no price
	n      int      // responses received
	cached int      // of them, served from the response cache
}

// fill sets the accounting fields of sp.
func (u *callUsage) fill(sp *bench.ScorePart) {
	if u == nil || u.n == 0 {
		return
	}
	usage := u.usage
	sp.Usage = &usage
	if u.cost != nil {
		c := *u.cost
		sp.CostUSD = &c
	}
	sp.Cached = u.cached == u.n
}

// Part is one compiled scorer. Immutable; safe for concurrent use.
type Part struct {
	name   string // type as written, e.g. "not-contains"
	neg    bool
	weight float64
	refs   refMode
	value  *tmpl.Template   // nil: the case's expected
	values []*tmpl.Template // nil: value or expected
	j      judge            // nil when cj is set
	cj     caseJudge        // model-graded types
	x      *Extractor       // nil: the whole answer is scored
}

// NewPart compiles a Spec. Errors are *FieldError (an unknown type's Err is an
// *UnknownTypeError; a template syntax error's Err is a *tmpl.ParseError-like
// error whose message names the template line). A judge Spec needs its
// Grader set: NewPart makes no request and does not resolve Model.
func NewPart(s Spec) (*Part, error) {
	k, neg, err := lookup(s.Type)
	if err != nil {
		return nil, err
	}
	for _, f := range s.setFields() {
		if !slices.Contains(k.fields, f) {
			return nil, fieldErr(f, "not used by scorer %q", s.Type)
		}
	}
	p := &Part{name: s.Type, neg: neg, weight: 1, refs: k.refs}
	if s.Weight != nil {
		w := *s.Weight
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fieldErr(FieldWeight, "must be a finite number ≥ 0, got %g", w)
		}
		p.weight = w
	}
	if s.Value != nil && s.Values != nil {
		return nil, fieldErr(FieldValues, "set value or values, not both")
	}
	if s.Values != nil && len(s.Values) == 0 {
		return nil, fieldErr(FieldValues, "must not be empty")
	}
	if s.Value != nil {
		if p.value, err = tmpl.Parse(*s.Value); err != nil {
			return nil, &FieldError{Field: FieldValue, Err: err}
		}
	}
	for i, v := range s.Values {
		t, err := tmpl.Parse(v)
		if err != nil {
			return nil, &FieldError{Field: fmt.Sprintf("%s[%d]", FieldValues, i), Err: err}
		}
		p.values = append(p.values, t)
	}
	if s.Extract != nil {
		if s.Extract.Pick != "" && strings.TrimPrefix(s.Type, "not-") != "numeric" {
			return nil, fieldErr(FieldExtract+".pick", "only numeric picks a number; %q scores the extracted text", s.Type)
		}
		if p.x, err = NewExtractor(*s.Extract); err != nil {
			return nil, err
		}
		if !p.x.Narrows() && s.Extract.Pick == "" {
			return nil, fieldErr(FieldExtract, "set after, regex, answer or (numeric) pick")
		}
	}
	if k.buildCase != nil {
		if p.cj, err = k.buildCase(&s); err != nil {
			return nil, err
		}
		return p, nil
	}
	if p.j, err = k.build(&s); err != nil {
		return nil, err
	}
	// A static reference can be checked now rather than once per case.
	if refs, static := p.staticRefs(); static {
		if err := p.j.checkRefs(refs); err != nil {
			f := FieldValue
			if p.values != nil {
				f = FieldValues
			}
			return nil, &FieldError{Field: f, Err: err}
		}
	}
	return p, nil
}

// Name is the scorer type as written, e.g. "not-contains".
func (p *Part) Name() string { return p.name }

// Weight is the part's weight in its composite.
func (p *Part) Weight() float64 { return p.weight }

func (p *Part) staticRefs() ([]string, bool) {
	switch {
	case p.refs == refNone:
		return nil, false
	case p.values != nil:
		out := make([]string, len(p.values))
		for i, t := range p.values {
			if !t.Static() {
				return nil, false
			}
			out[i] = t.Text()
		}
		return out, true
	case p.value != nil && p.value.Static():
		return []string{p.value.Text()}, true
	}
	return nil, false
}

// RefError is a problem with a case's reference value for one part: a value
// template that does not render for the case, or an expected answer the scorer
// cannot use. Field is "value", "values[i]" or "expected".
type RefError struct {
	Field string
	Err   error
}

func (e *RefError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *RefError) Unwrap() error { return e.Err }

// caseData is the data scorer templates see: the case's variables plus
// "expected" and "id".
func caseData(c *bench.Case) map[string]string {
	d := make(map[string]string, len(c.Vars)+2)
	for k, v := range c.Vars {
		d[k] = v
	}
	d["expected"] = c.Expected
	d["id"] = c.ID
	return d
}

// references renders the part's reference values for c.
func (p *Part) references(c *bench.Case) ([]string, error) {
	if p.refs == refNone {
		return nil, nil
	}
	if p.value == nil && p.values == nil {
		if c.Expected == "" {
			return nil, &RefError{Field: "expected", Err: fmt.Errorf("scorer %q needs an expected answer (or a value on the scorer)", p.name)}
		}
		return []string{c.Expected}, nil
	}
	d := caseData(c)
	has := func(k string) bool { _, ok := d[k]; return ok }
	render := func(field string, t *tmpl.Template) (string, error) {
		s, err := t.Execute(d, has)
		if err != nil {
			return "", &RefError{Field: field, Err: err}
		}
		if s == "" {
			return "", &RefError{Field: field, Err: errors.New("renders empty")}
		}
		return s, nil
	}
	if p.value != nil {
		s, err := render(FieldValue, p.value)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	out := make([]string, len(p.values))
	for i, t := range p.values {
		s, err := render(fmt.Sprintf("%s[%d]", FieldValues, i), t)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// Check reports whether c gives the part what it needs: its templates render
// and the reference is usable (a number for numeric, a declared label for
// choice). The error is a *RefError.
func (p *Part) Check(c *bench.Case) error {
	if p.cj != nil {
		return p.cj.check(c)
	}
	refs, err := p.references(c)
	if err != nil {
		return err
	}
	if p.refs == refNone {
		return nil
	}
	if err := p.j.checkRefs(refs); err != nil {
		f := "expected"
		if p.value != nil {
			f = FieldValue
		} else if p.values != nil {
			f = FieldValues
		}
		return &RefError{Field: f, Err: err}
	}
	return nil
}

// Judge is JudgeContext with context.Background().
func (p *Part) Judge(c *bench.Case, output string) (bench.ScorePart, error) {
	return p.JudgeContext(context.Background(), c, output)
}

// JudgeContext scores one answer. An error means the case cannot be scored
// by this part (see Check; for a judge part also a failed grading request,
// whose *providers.Error is in the chain, or an unreadable grade, a
// *GradeError), not that the answer is wrong. Only judge parts block, on
// their grading requests, and they honour ctx.
//
// A judge part sets the ScorePart's Usage, CostUSD and Cached (see
// bench.ScorePart) from the grading responses it received; with an error,
// the returned ScorePart carries only Name, Weight and that accounting of
// the calls made before the failure (none when no response came back).
func (p *Part) JudgeContext(ctx context.Context, c *bench.Case, output string) (bench.ScorePart, error) {
	var v verdict
	if p.cj != nil {
		var err error
		if v, err = p.cj.grade(ctx, c, output); err != nil {
			sp := bench.ScorePart{Name: p.name, Weight: p.weight}
			v.calls.fill(&sp)
			return sp, err
		}
	} else {
		refs, err := p.references(c)
		if err != nil {
			return bench.ScorePart{}, err
		}
		if p.refs != refNone {
			if err := p.j.checkRefs(refs); err != nil {
				return bench.ScorePart{}, &RefError{Field: "expected", Err: err}
			}
		}
		text, err := p.x.Apply(output)
		switch {
		case err == nil:
			v = p.j.judge(text, refs)
		case p.x.answer:
			// The answer finder found no marker: the answer is read whole,
			// as without extraction.
			if w, ok := p.j.(wholeJudge); ok {
				v = w.judgeWhole(output, refs)
			} else {
				v = p.j.judge(output, refs)
			}
		default:
			v = verdict{reason: "extract: " + err.Error()}
		}
	}
	sp := bench.ScorePart{Name: p.name, Value: v.value, Weight: p.weight, Pass: v.pass, Reason: v.reason}
	v.calls.fill(&sp)
	if p.neg {
		sp.Value = 1 - v.value
		sp.Pass = !v.pass
		switch {
		case !sp.Pass:
			sp.Reason = v.reason + " (not wanted)"
		case !v.neutral:
			sp.Reason = ""
		}
	}
	return sp, nil
}

// Composite is a suite's scorer: the weighted mean of its parts, passing when
// it reaches the threshold. Immutable; safe for concurrent use.
type Composite struct {
	parts     []*Part
	total     float64
	threshold float64
}

var _ bench.Scorer = (*Composite)(nil)

// NewComposite combines parts. threshold must be in [0, 1]; at least one part
// must have a positive weight.
func NewComposite(threshold float64, parts ...*Part) (*Composite, error) {
	if len(parts) == 0 {
		return nil, errors.New("no scorers")
	}
	if !(threshold >= 0 && threshold <= 1) {
		return nil, fmt.Errorf("threshold must be in [0, 1], got %g", threshold)
	}
	c := &Composite{parts: parts, threshold: threshold}
	for _, p := range parts {
		c.total += p.weight
	}
	if c.total <= 0 {
		return nil, errors.New("every scorer has weight 0")
	}
	return c, nil
}

// Threshold is the score a case needs to pass.
func (c *Composite) Threshold() float64 { return c.threshold }

// Parts returns the compiled parts in order.
func (c *Composite) Parts() []*Part { return slices.Clone(c.parts) }

// WithThreshold returns a composite sharing c's parts with another pass
// threshold, for cases that override it. t must be in [0, 1].
func (c *Composite) WithThreshold(t float64) *Composite {
	if t == c.threshold {
		return c
	}
	d := *c
	d.threshold = t
	return &d
}

// PartError is a Check failure of the part at Index.
type PartError struct {
	Index int
	Name  string
	Err   error // a *RefError
}

func (e *PartError) Error() string {
	return fmt.Sprintf("scorers[%d] (%s): %v", e.Index, e.Name, e.Err)
}
func (e *PartError) Unwrap() error { return e.Err }

// Check verifies that every part can score c; see Part.Check. The error joins
// one *PartError per failing part.
func (c *Composite) Check(cs *bench.Case) error {
	var errs []error
	for i, p := range c.parts {
		if err := p.Check(cs); err != nil {
			errs = append(errs, &PartError{Index: i, Name: p.name, Err: err})
		}
	}
	return errors.Join(errs...)
}

// Score judges r's text with every part, in order. The returned Reason joins
// the reasons of failing parts (prefixed with their name when there are
// several). Judge parts make their grading requests here, one after another,
// with ctx (which carries the runner's repeat index); the first part error
// ends scoring and is returned as a *PartError, with a Score whose only
// content is Parts: the parts scored before it and, when it made grading
// calls, the failing part (see JudgeContext), so their usage and cost can
// still be accounted. Value, Pass and Reason of that Score mean nothing.
func (c *Composite) Score(ctx context.Context, cs *bench.Case, r *providers.Response) (bench.Score, error) {
	if r == nil {
		return bench.Score{}, errors.New("score: nil response")
	}
	s := bench.Score{Parts: make([]bench.ScorePart, 0, len(c.parts))}
	var sum float64
	var reasons []string
	for i, p := range c.parts {
		sp, err := p.JudgeContext(ctx, cs, r.Text)
		if err != nil {
			if sp.Usage != nil {
				s.Parts = append(s.Parts, sp)
			}
			return bench.Score{Parts: s.Parts}, &PartError{Index: i, Name: p.name, Err: err}
		}
		sum += sp.Value * sp.Weight
		s.Parts = append(s.Parts, sp)
		if !sp.Pass && sp.Reason != "" {
			if len(c.parts) > 1 {
				reasons = append(reasons, p.name+": "+sp.Reason)
			} else {
				reasons = append(reasons, sp.Reason)
			}
		}
	}
	s.Value = sum / c.total
	s.Pass = s.Value >= c.threshold-1e-9
	if !s.Pass {
		s.Reason = strings.Join(reasons, "; ")
		if s.Reason == "" {
			s.Reason = fmt.Sprintf("score %.2f below threshold %.2f", s.Value, c.threshold)
		}
	}
	return s, nil
}
