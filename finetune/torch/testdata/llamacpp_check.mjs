// Has llama.cpp itself load every GGUF export TestExportReference wrote (make export-fixtures).
//
//   node finetune/torch/testdata/llamacpp_check.mjs EXPORT_DIR [NODE_LLAMA_CPP_DIR]
//
// llama.cpp comes from the npm package node-llama-cpp (pinned: 3.21.1, which ships prebuilt CPU binaries),
// installed outside the repository in NODE_LLAMA_CPP_DIR (default ~/.cache/yardstick/node-llama-cpp). For the
// base GGUFs (tiny_llama.gguf and the tied-embeddings one Yardstick wrote), each merged GGUF export, and
// the base with each GGUF LoRA adapter (context option `lora`), it
// records into testdata/exports/llamacpp.json the log-probabilities of every position of plan.json's ids
// (full-vocabulary softmax at temperature 1, every vocab_stride-th id, and the argmax) and the greedy
// continuation of those ids. A file llama.cpp refuses aborts the script with llama.cpp's error.
import {createRequire} from "node:module";
import {readFileSync, writeFileSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";
import {homedir} from "node:os";

const dir = process.argv[2];
if (!dir) {
    console.error("usage: llamacpp_check.mjs EXPORT_DIR [NODE_LLAMA_CPP_DIR]");
    process.exit(2);
}
const cache = process.argv[3] ?? process.env.NODE_LLAMA_CPP_DIR ?? join(homedir(), ".cache", "yardstick", "node-llama-cpp");
const require = createRequire(join(cache, "package.json"));
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(require.resolve("node-llama-cpp")).href);
const version = JSON.parse(readFileSync(join(cache, "node_modules", "node-llama-cpp", "package.json"), "utf8")).version;

const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
const GREEDY = 8;
const errors = [];
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error,
    logger: (level, message) => { if (level === "error" || level === "fatal") errors.push(message.trim()); }});

async function run(modelFile, loraFile) {
    const model = await llama.loadModel({modelPath: join(dir, modelFile)});
    try {
        const opts = {contextSize: 64, batchSize: 64, threads: 1, sequences: 1};
        if (loraFile) opts.lora = {adapters: [{filePath: join(dir, loraFile), scale: 1}]};
        const ctx = await model.createContext(opts);
        const seq = ctx.getSequence();
        const full = {temperature: 1, topK: 0, topP: 1, minP: 0};
        const res = await seq.controlledEvaluate(plan.ids.map(t => [t, {generateNext: {probabilities: true, options: full}}]));
        const values = [], argmax = [];
        for (const r of res) {
            const p = r.next.probabilities;
            if (p.size !== plan.vocab_size) throw new Error(`${modelFile}: ${p.size} probabilities for a vocabulary of ${plan.vocab_size}`);
            const row = [];
            for (let id = 0; id < plan.vocab_size; id += plan.vocab_stride) row.push(Math.round(Math.log(p.get(id) ?? 0) * 1e6) / 1e6);
            values.push(row);
            argmax.push(p.entries().next().value[0]);
        }
        await seq.clearHistory();
        const greedy = [];
        for await (const t of seq.evaluate(plan.ids, {temperature: 0})) {
            greedy.push(t);
            if (greedy.length >= GREEDY) break;
        }
        await ctx.dispose();
        const out = {files: loraFile ? [modelFile, loraFile] : [modelFile], logprobs: {values, argmax}, greedy};
        if (!loraFile) out.tokens = Object.fromEntries(plan.texts.map(s => [s, Array.from(model.tokenize(s, true))]));
        return out;
    } finally {
        await model.dispose();
    }
}

const runs = {};
for (const f of [plan.base, plan.tied_base, ...plan.merged_gguf]) runs[f] = await run(f);
for (const f of Object.keys(plan.lora_gguf).sort()) runs[f] = await run(plan.bases[plan.lora_gguf[f]], f);
if (errors.length) {
    console.error("llama.cpp reported errors:\n" + errors.join("\n"));
    process.exit(1);
}
const out = join(dirname(fileURLToPath(import.meta.url)), "exports", "llamacpp.json");
const record = {versions: {"node-llama-cpp": version, "llama.cpp": llama.llamaCppRelease?.release ?? "unknown"}, runs};
writeFileSync(out, JSON.stringify(record, null, 1) + "\n");
console.log(`wrote ${out}: ${Object.keys(runs).length} runs`);
