// Package score judges a model's answer to one benchmark case. It provides the
// scorer types a suite file names (exact, contains, icontains, contains-any,
// contains-all, starts-with, ends-with, regex, is-json, json-schema,
// json-match, numeric, choice), each negatable with a "not-" prefix, and the
// Composite that combines them into a weighted bench.Score.
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
// This package does not read files, parse YAML, call models or know about
// suites; a model-graded judge is not implemented.
package score
