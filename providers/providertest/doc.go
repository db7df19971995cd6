// Package providertest holds offline test tooling for provider adapters:
// httptest fakes that speak the real wire protocols, and a conformance kit
// that runs one table of behaviours against every adapter.
//
// # Fakes
//
// OpenAIServer fakes the OpenAI chat completions API (POST
// {base}/chat/completions, plus Azure OpenAI's
// /openai/deployments/{deployment}/chat/completions?api-version=…), with
// server-sent-event streaming. Gemini and Ollama fakes live beside it
// (gemini*.go, ollama*.go). Every fake records each request it receives (raw
// body plus a decoded, protocol-neutral WireRequest), counts requests and
// the peak number in flight, and answers each request by popping the next
// scripted Behavior (or its default behaviour when the script is empty).
// Fakes are safe for concurrent use and are reusable outside adapter tests:
// the runner's and the CLI's tests point real adapters at them.
//
// # Conformance kit
//
// RunConformance(t, h) runs the behaviour table (see the Case* constants)
// against one adapter. A Harness describes the adapter under test:
//
//   - Name: the adapter name every *providers.Error it returns must carry in
//     its Provider field ("openai", "gemini", "ollama").
//   - Model: the model name the kit puts in requests.
//   - New(t): starts a fresh fake for one subtest (stopped through
//     t.Cleanup), builds the adapter pointed at it, and returns both. The
//     adapter must be bare — no Retry, Limit or Cached decorator — because
//     the kit checks that one call makes exactly one request, and it must
//     have no client-side timeout shorter than 10s. The same New is called
//     once per subtest, possibly from parallel subtests.
//   - Skip: behaviour names (Case* constants) the protocol cannot express,
//     each mapped to the reason, which the kit prints when skipping.
//
// The Fake returned by New is the contract a fake implements for the kit:
//
//   - Script(b...) queues behaviours for the next requests, first in first
//     out; requests beyond the script get a normal answer.
//   - Requests() returns every request received so far, in arrival order,
//     decoded into WireRequest. Sampling fields (Temperature, TopP, Seed,
//     MaxTokens) must be decoded from the raw JSON body so that a field
//     absent from the wire is nil and a field sent as 0 is a non-nil pointer
//     to 0 — this is how "temperature 0 reaches the server" is proven.
//     Messages holds the system prompt (role "system") first, then the
//     conversation, whatever the protocol's layout. JSONSchema holds the
//     output schema the request asked for, as sent.
//
// Every fake must honour these Behavior fields in its own protocol: Text,
// Model, FinishReason (as the protocol spells "stop"), Usage, Status with an
// error body in the protocol's documented shape (ErrorCode/ErrorMessage
// override the typical code and message for the status), RetryAfter (as a
// Retry-After header), HTML, Malformed, CutBody, CutStreamAfter, Delay,
// ChunkDelay, and the hostile ones: EchoAuth (the error body repeats the
// request's credentials), RawBody, BodyBytes (a huge body; HugeBytesSent
// counts what was written), StallBody, StallStreamAfter, Endless and
// EndWithoutFinish (OpenAI fakes also NoStreamUsage and RawStream). A fake applies stop sequences (the answer is cut before the
// first one) and MaxTokens (counting whitespace-separated words as tokens;
// finish reason "length").
//
// The kit expects, for every adapter: the scripted text, finish reason,
// resolved model and usage come back in the Response; temperature, top_p
// and seed of 0 appear on the wire and unset knobs do not; max tokens, stop
// sequences, the system prompt and a JSON schema reach the wire; HTTP
// 400/401/404/429/500/503 map to KindInvalidRequest, KindAuth,
// KindNotFound, KindRateLimit (with RetryAfter from the header),
// KindUnavailable and KindUnavailable, with StatusCode set; an HTML error
// page is classified by its status with a short message free of markup; a
// malformed body is KindBadResponse; a body or stream cut mid-way is a
// temporary Kind; cancelling ctx during a slow answer returns within two
// seconds with KindCanceled, and an expired deadline gives KindTimeout;
// streaming delivers the text in chunks, sets TTFT > 0 and takes usage from
// the stream. Built with short providers.Bounds (Harness.New's second
// argument), a server that never answers, a body or stream that goes silent
// and a stream that never ends are KindTimeout naming the limit; a 100 MB
// body is KindResponseTooLarge with reading stopped near the cap; a stream
// that ends cleanly without a finish reason is KindStreamTruncated; and a
// key the server echoes in a 401 body is not in the error's text once
// registered with internal/redact.
//
// This package does not talk to real services and is imported only by tests.
package providertest
