// llamacpp_bench.mjs — the llama.cpp side of finetune/torch's BenchmarkBatchedGeneration (`make bench-llamacpp`).
//
// A long-lived worker: it loads one GGUF file once, through node-llama-cpp's prebuilt llama.cpp (CPU only,
// scripts/llamacpp.sh installs it outside the repo), then answers one JSON request per stdin line with one
// JSON line on stdout, so the Go benchmark can interleave its rounds with Yardstick's and PyTorch's without
// counting start-up or model loading:
//
//   {"op":"load","model":"FILE.gguf","threads":2,"sequences":8,"context":256}
//       -> {"llama_cpp":"b…","build":"prebuilt","context":…,"batch":…,"flash_attention":…,"system":"…"}
//   {"op":"gen","prompts":[[id,…],…],"new":N}
//       -> {"seconds":S,"ids":[[id,…],…]}
//
// gen puts prompt i on context sequence i (history cleared first), evaluates them concurrently — node-llama-cpp
// gathers the sequences' pending tokens into one llama_decode batch per step — and samples greedily
// (temperature 0) N tokens per sequence, end-of-generation tokens included, so every engine does the same
// amount of work. S is the wall time from the first evaluation to the Nth token of the last sequence.
// Prompt ids go in as tokens (no BOS added, no tokenizing). Errors come back as {"error":"…"}.
//
// Usage: node llamacpp_bench.mjs NODE_LLAMA_CPP_DIR   (the directory holding node_modules/node-llama-cpp)
import { createInterface } from "node:readline";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.argv[2];
if (!dir) {
	console.error("usage: node llamacpp_bench.mjs NODE_LLAMA_CPP_DIR");
	process.exit(2);
}
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(join(dir, "node_modules", "node-llama-cpp", "dist", "index.js")).href);

let llama, model, context, sequences;

async function load(req) {
	const threads = req.threads ?? 2;
	llama = await getLlama({ gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.error });
	model = await llama.loadModel({ modelPath: req.model, gpuLayers: 0 });
	const n = req.sequences ?? 8;
	context = await model.createContext({
		sequences: n,
		contextSize: req.context ?? 256,
		batchSize: Math.max(512, n * (req.context ?? 256)),
		threads: { ideal: threads, min: threads },
	});
	sequences = [];
	for (let i = 0; i < n; i++) sequences.push(context.getSequence());
	return {
		llama_cpp: llama.llamaCppRelease.release,
		build: llama.buildType,
		gpu: llama.gpu,
		context: context.contextSize,
		batch: context.batchSize,
		flash_attention: context.flashAttention,
		threads: context.currentThreads ?? threads,
		system: llama.systemInfo,
	};
}

async function generate(seq, prompt, n) {
	const out = [];
	for await (const tok of seq.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
		out.push(tok);
		if (out.length >= n) break;
	}
	return out;
}

async function gen(req) {
	const prompts = req.prompts;
	if (prompts.length > sequences.length) throw new Error(`${prompts.length} prompts, the context has ${sequences.length} sequences`);
	for (let i = 0; i < prompts.length; i++) await sequences[i].clearHistory();
	const t0 = process.hrtime.bigint();
	const ids = await Promise.all(prompts.map((p, i) => generate(sequences[i], p, req.new)));
	const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
	return { seconds, ids };
}

const ops = { load, gen };
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
	if (!line.trim()) continue;
	let res;
	try {
		const req = JSON.parse(line);
		const op = ops[req.op];
		if (!op) throw new Error(`unknown op ${JSON.stringify(req.op)}`);
		res = await op(req);
	} catch (e) {
		res = { error: String(e?.stack ?? e) };
	}
	process.stdout.write(JSON.stringify(res) + "\n");
}
await context?.dispose();
await model?.dispose();
