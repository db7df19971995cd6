// llamacpp_chat.mjs — serve a `yardstick finetune export` GGUF with llama.cpp itself and score it on a chat
// JSONL file (`yardstick suites export SUITE --split test`): greedy replies through llama.cpp's chat
// handling (node-llama-cpp picks the chat format from the file's tokenizer.chat_template), compared
// exactly with each conversation's last assistant message. `make llamacpp-chat RUN=DIR` runs it on a
// fine-tuning run's merged Q8_0 export and on its base with the GGUF LoRA export.
//
//   node scripts/llamacpp_chat.mjs --model FILE.gguf [--lora ADAPTER.gguf] --data TEST.jsonl [--out REPLIES.json]
//
// llama.cpp comes from the npm package node-llama-cpp (prebuilt CPU binaries) installed outside the
// repository: NODE_LLAMA_CPP_DIR, default ~/.cache/yardstick/node-llama-cpp (make node-llama-cpp).
import {createRequire} from "node:module";
import {readFileSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {homedir} from "node:os";
import {parseArgs} from "node:util";

const {values: args} = parseArgs({options: {model: {type: "string"}, lora: {type: "string"}, data: {type: "string"},
    out: {type: "string"}, "max-tokens": {type: "string", default: "32"}, threads: {type: "string", default: "2"}}});
if (!args.model || !args.data) {
    console.error("usage: llamacpp_chat.mjs --model FILE.gguf [--lora ADAPTER.gguf] --data TEST.jsonl [--out REPLIES.json]");
    process.exit(2);
}
const cache = process.env.NODE_LLAMA_CPP_DIR ?? join(homedir(), ".cache", "yardstick", "node-llama-cpp");
const require = createRequire(join(cache, "package.json"));
const {getLlama, LlamaChatSession, LlamaLogLevel, resolveChatWrapper} = await import(pathToFileURL(require.resolve("node-llama-cpp")).href);

const cases = readFileSync(args.data, "utf8").split("\n").map((l, i) => [l, i + 1]).filter(([l]) => l.trim()).map(([l, line]) => {
    const ms = JSON.parse(l).messages;
    const last = ms.length - 1;
    if (!Array.isArray(ms) || ms[last]?.role !== "assistant") throw new Error(`${args.data}:${line}: messages must end with the assistant's reply`);
    return {line, history: ms.slice(0, last), want: ms[last].content};
});
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const start = Date.now();
const model = await llama.loadModel({modelPath: args.model});
const opts = {contextSize: 2048, threads: Number(args.threads)};
if (args.lora) opts.lora = {adapters: [{filePath: args.lora, scale: 1}]};
const ctx = await model.createContext(opts);
const wrapper = resolveChatWrapper(model);
let exact = 0;
const replies = [];
for (const c of cases) {
    const system = c.history.find(m => m.role === "system")?.content;
    const turns = c.history.filter(m => m.role !== "system");
    const session = new LlamaChatSession({contextSequence: ctx.getSequence(), systemPrompt: system, chatWrapper: wrapper});
    // earlier turns become the session's history; the last user message is the prompt
    const prior = [];
    for (const m of turns.slice(0, -1)) prior.push(m.role === "user" ? {type: "user", text: m.content} : {type: "model", response: [m.content]});
    if (prior.length) session.setChatHistory([...session.getChatHistory(), ...prior]);
    const reply = await session.prompt(turns.at(-1).content, {temperature: 0, maxTokens: Number(args["max-tokens"])});
    session.dispose({disposeSequence: true});
    replies.push({line: c.line, reply, want: c.want});
    if (reply.trim() === c.want.trim()) exact++;
}
const secs = (Date.now() - start) / 1000;
console.log(`${args.model}${args.lora ? " + " + args.lora : ""}: chat format ${wrapper.wrapperName}, ${exact}/${cases.length} replies exactly as expected (${(100 * exact / cases.length).toFixed(1)}%), ${secs.toFixed(1)}s`);
if (args.out) writeFileSync(args.out, JSON.stringify({model: args.model, lora: args.lora ?? null, chat_format: wrapper.wrapperName, exact, n: cases.length, replies}, null, 1) + "\n");
await ctx.dispose();
await model.dispose();
