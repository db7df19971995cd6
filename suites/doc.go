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
//	cases:                            # a list of inline cases, or:
//	  file: cases.jsonl               # .jsonl or .csv, relative to the suite file
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
// Inline cases are mappings with id, vars (a mapping), expected, split, tags
// and pass_threshold. A scorer entry holds type, weight, value, values,
// normalize, pattern, schema or schema_file, labels, tolerance, rel_tolerance,
// extract and strict (see package suites/score for which type uses which).
//
// # Datasets
//
// A JSONL dataset has one JSON object per line; a CSV dataset has a header row
// naming its columns. Reserved names: id, expected, split, pass_threshold,
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
// This package does not call models, run cases, evaluate thresholds (it only
// hands their text to a validator; see bench/gate) or write results.
package suites
