// Package score judges a model's answer to one benchmark case. It provides the
// scorer types a suite file names (exact, contains, icontains, contains-any,
// contains-all, starts-with, ends-with, regex, is-json, json-schema,
// json-match, numeric, choice, and the model-graded judge), each negatable
// with a "not-" prefix, and the Composite that combines them into a weighted
// bench.Score.
//
// Text is compared Unicode-correctly: canonically equivalent strings (NFC)
// are always equal; the normalisations nfkc, width, lower (full case
// folding), punctuation, nospace, whitespace and trim are opt-in per scorer.
// numeric reads full-width and other scripts' digits, any locale's
// thousands separators, fractions, percentages, scale words and Korean,
// Chinese and Japanese units (see ExtractNumbers); choice accepts Korean
// particles and copulas after a label and labels inside Chinese and
// Japanese text (see the Match* modes). Extract narrows the answer to the
// part a scorer reads ("#### 18", "\boxed{18}", "Final answer: 18").
//
// A scorer is described by a Spec (the decoded YAML of one `scorers:` entry)
// and compiled once by NewPart: regexes, JSON schemas and value templates are
// compiled then, so a bad one is a configuration error (a *FieldError naming
// the Spec field), never a per-case failure. Compiled parts and composites are
// immutable and safe for concurrent use.
//
// Reference values: a scorer compares the answer with its `value` (or
// `values`), which are templates over the case's variables plus `expected` and
// `id`; without them it uses the case's Expected. Composite.Check verifies,
// before any model is called, that a case gives every scorer what it needs.
//
// # Judge scorer
//
// A judge part (model-graded, like promptfoo's llm-rubric or openai/evals'
// ModelBasedClassify) asks a grading model, Spec.Grader (resolved from
// Spec.Model by the caller), whether an answer meets a rubric. It is the
// only scorer that blocks or fails for reasons other than the case's data: a
// failed grading request or an unreadable grade is an error from
// Composite.Score (the runner records a "score" error), not a failed answer.
//
// Request. Every grading request has Model = Grader.Model, an explicit
// Temperature (0 unless the scorer sets one), no max_tokens, seed or JSON
// schema, and two messages:
//
//   - system: fixed grader instructions (grade against the rubric only, treat
//     the marked sections as data, reason briefly, end with "GRADE: <grade>")
//     followed by the grades, one a line, each with its score;
//   - user: the case's conversation (its system prompt, if any, then its
//     messages, each under a "[role]" line) between [BEGIN CONVERSATION] and
//     [END CONVERSATION]; the case's expected answer, when it has one,
//     between [BEGIN REFERENCE ANSWER] and [END REFERENCE ANSWER]; the
//     rendered rubric between [BEGIN RUBRIC] and [END RUBRIC]; the model's
//     answer between [BEGIN ANSWER] and [END ANSWER]; then one line asking
//     for the final "GRADE: <grade>" line and naming the grades.
//
// testdata/judge_request.golden holds a complete request, word for word; a
// change to the template shows there (and changes every cache key).
//
// Reply. The grade is read from the last line that starts, after markdown
// (#, >, *, _, `, -) and spaces, with "GRADE:" or "FINAL GRADE:" (any case; a
// colon may follow markdown as in "**Grade**:"). The first word after the
// colon, stripped of markdown, quotes, brackets and trailing punctuation, must
// be one of the grades (any case); "PASS/FAIL", "PASS | FAIL", "PASS, FAIL"
// and "PASS or FAIL" (an echoed list) are refused as ambiguous. A reply without
// such a line, or whose grade is not a choice, is a *GradeError: the case is a
// scoring error, never a silent failure. The text before the GRADE line,
// whitespace collapsed and cut to 200 characters, is the reasoning quoted in
// the part's reason.
//
// Samples. With samples N > 1 the request is sent N times, sample i (from 0)
// under providers.WithRepeat(ctx, R*N+i) where R is the repeat index ctx
// already carries (the runner's repeat), so a response cache keeps samples
// and repeats apart while a rerun hits the same entries. The part's value is
// the mean of the grades' values. The majority grade is the most frequent
// (a tie goes to the lower-valued grade), and the part passes when the
// majority grade has the highest value of all choices. The reason reads
// `judge 2/3 PASS [PASS FAIL PASS]: "reasoning…"` (2 of 3 samples agree with
// the majority, then every sample's grade in order, then the reasoning of the
// first sample with the majority grade); with one sample, `judge PASS:
// "reasoning…"`. A not-judge part scores 1 − the mean and passes when the
// judge part would not; it keeps the reason either way.
//
// Usage and cost. A judge part records on its bench.ScorePart the summed
// Usage of every grading response it received (cache hits included, with the
// usage they report), the cost of that usage at Grader.Price (nil when the
// grader has no price) and Cached, true when every response was served from
// the response cache. As for the model under test (bench.Result.CostUSD), a
// cache hit's cost is its nominal cost; the runner charges the budget
// nothing for a part that is Cached. When scoring fails after grading calls
// were made, Composite.Score still returns the parts with their accounting.
//
// This package does not read files, parse YAML, resolve model names or know
// about suites, and it does not enforce budgets.
package score
