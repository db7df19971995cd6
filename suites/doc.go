// Package suites loads benchmark suite files and turns them into a stream of
// rendered bench.Case values.
//
// A suite is a YAML file (decoded strictly: unknown fields, wrong types and
// duplicate keys are errors) holding a name, a prompt template, cases (inline,
// or a JSONL or CSV dataset next to the suite), sampling defaults, scorers and
// gate thresholds. Every configuration error names file:line and the field
// path, for example
//
//	support.yaml:14: scorers[1].type: unknown scorer "regexp"; did you mean "regex"?
//
// and Load reports all the errors of a file at once (an ErrorList).
//
// # Suite file
//
//	name: customer-support            # required; letters, digits, . _ -
//	description: Intent classification
//	version: "1.2"                    # free text, recorded with results
//	tags: {domain: support}           # added to every case's tags
//	prompt:                           # either system + user …
//	  system: You classify messages.
//	  user: "Message: {{.text}}"
//	  # … or messages: [{role: system|user|assistant, content: "…"}]
//	  images: ["{{.image}}"]          # optional: image files (relative to the suite) or data: URLs, templated
//	cases:                            # a list of inline cases, or:
//	  file: cases.jsonl               # .jsonl, .csv, .json or .parquet, relative to the suite file
//	  split: test                     # the split run by default ("all": every case)
//	defaults:                         # sampling parameters of every request
//	  temperature: 0                  # an explicit 0 is kept (sent as 0)
//	  top_p: 1
//	  max_tokens: 16
//	  seed: 7
//	  stop: ["\n"]                    # a string or a list
//	  json_schema: {type: object}     # or json_schema_file: schema.json
//	scorers:                          # see package suites/score for the types
//	  - {type: choice, labels: [refund_request, order_status]}
//	  - {type: not-icontains, value: "I'm sorry", weight: 0.5}
//	pass_threshold: 1.0               # weighted score a case needs to pass (default 1)
//	thresholds: ["pass_rate >= 0.85"] # gate expressions, validated by LoadOptions.ValidateThreshold
//
// Inline cases are mappings with id, vars (a mapping), expected, split, tags,
// pass_threshold, images (files or data: URLs, checked when the suite loads)
// and scorers (the case's own, scored after the suite's, like
// promptfoo's per-test assertions). Images (PNG, JPEG, GIF or WebP, sniffed
// from the bytes, at most MaxImageBytes) go with the last user message, those
// of prompt.images first; an entry of prompt.images that renders empty is
// skipped. A scorer entry holds type, weight, value, values,
// normalize, pattern, schema or schema_file, labels, match, tolerance,
// rel_tolerance, extract and strict, and for judge model, rubric, choices,
// samples and temperature (see package suites/score for which type uses
// which, or `yardstick suites scorers`). extract is a word (last, first,
// only: which number numeric reads; answer: the answer finder) or a mapping
// {after: "####"}, {regex: 'Total: (\d+)'}, each with an optional pick.
//
// # Model-graded scorer (judge)
//
// A judge scorer asks a grading model whether the answer meets a rubric, like
// promptfoo's llm-rubric:
//
//	scorers:
//	  - type: judge                   # or not-judge; weight as for any scorer
//	    model: openai:gpt-4o-mini     # required: a target string, as for -m
//	    rubric: "The answer is polite and offers a concrete next step."
//	    choices: {PASS: 1, PARTIAL: 0.5, FAIL: 0}  # default {PASS: 1, FAIL: 0}
//	    samples: 3                    # grading requests per answer (default 1)
//	    temperature: 0                # of grading requests (default 0, sent)
//
// The rubric is a template like a scorer value (case variables, expected,
// id); a variable a case lacks, or {{.expected}} for a case without an
// expected answer, is an error naming the case's file:line. Grades (choices)
// are single words, matched ignoring case, each worth a score in [0, 1], one
// of them 1; their order is kept in the grading prompt.
//
// The grading request has a fixed system prompt (grader instructions listing
// the grades) and a user message holding the case's conversation, its
// expected answer as a reference when it has one, the rendered rubric and the
// answer, and asks for brief reasoning then a final line "GRADE: <grade>".
// The last GRADE line of the reply is read (markdown tolerated); a reply
// without a readable grade fails the case as a scoring error, never as a
// wrong answer. With samples N the request is sent N times under distinct
// repeat indexes (so a response cache keeps them apart); the part's score is
// the mean of the grades' scores, it passes when the majority grade (a tie
// goes to the lower) is a top grade, and its reason reads e.g.
// `judge 2/3 PASS [PASS FAIL PASS]: "reasoning…"`. Because the score is a
// mean, a suite that should pass on a majority sets pass_threshold (0.5, say).
//
// Loading a suite with a judge scorer needs LoadOptions.Judge, which resolves
// the model text to a provider wrapped in the caller's retry, limit and cache
// decorators; the yardstick CLI sets it, and LoadOptions.JudgePrice, which
// prices the grading calls. Grading tokens and cost are recorded per judge
// part (bench.ScorePart Usage and CostUSD) and summed by the runner into
// the result's judge_usage and judge_cost_usd, apart from the model's own
// usage and cost.
//
// # Datasets
//
// A JSONL dataset has one JSON object per line; a CSV dataset has a header row
// naming its columns; a .json dataset is one array of objects (or JSON
// Lines, as Hugging Face's Dataset.to_json writes them); a .parquet
// dataset (Hugging Face datasets' own format) has one row per case, its
// columns read as JSON values would be (nested groups as objects, lists as
// arrays), and its errors name the row ("train.parquet: row 12: …").
//
// A dataset used as published maps its own field names with cases.fields:
//
//	cases:
//	  file: test.jsonl                # GSM8K: {"question": …, "answer": "…\n#### 18"}
//	  fields:
//	    input: question               # variable input ← field question
//	    lang: meta.lang               # nested fields and list items (choices.0)
//	    expected: {field: answer, after: "####"}   # or regex: '…(\d+)', or answer: true
//	    id: {template: "q{{.idx}}"}   # a template over the row's fields
//
// Targets are id, expected, split and variable names; a row lacking a mapped
// field is an error naming the row's file:line, the field and the mapping. Reserved names: id, expected, split, pass_threshold,
// tags (a JSONL object), tags.NAME (a column or key), and in JSONL vars (an
// object). Every other key or column is a template variable. A row without an
// id gets "row-N", N counting non-blank data rows from 1; give ids for
// identities that survive edits. Datasets are read one row at a time and
// never held in memory.
//
// # Templates
//
// Prompt texts and scorer values are Go text/template with missingkey=error
// and the functions lower, upper, trim, join (join LIST SEP) and json. Prompt
// templates see the case's variables; scorer value templates also see
// "expected" and "id". A variable a template uses but a case lacks is an error
// naming the case's file:line, before any model is called.
//
// This package does not call models (a judge scorer calls its grader only
// when the runner scores an answer), run cases, evaluate thresholds (it only
// hands their text to a validator; see analysis/gate) or write results.
package suites
