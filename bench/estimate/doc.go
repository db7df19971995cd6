// Package estimate predicts, offline and before any provider is called, how
// many tokens a suite will spend and what it will cost per target: the
// library behind `yardstick estimate`.
//
// Input tokens are counted with OpenAI's own encodings (o200k_base,
// cl100k_base; rank files embedded by github.com/pkoukk/tiktoken-go-loader)
// and the chat framing OpenAI documents; for OpenAI models that count is the
// one the API bills. Every other model gets a documented approximation (see
// Tokenizer) and its Row says so (Approximate, Method). Output tokens are two
// estimates: a likely value from the case's expected answer and an upper
// bound from its max_tokens.
//
// The Estimator is an accumulator in the Add/Close style of analysis.Summarizer:
// cases stream in, one Row per target comes out.
//
// This package does not call providers, read suites, look up prices (the
// caller passes each target's providers.Price, e.g. from providers/pricing),
// render reports or enforce budgets at run time (the runner's --budget does).
// It never uses the network.
package estimate
