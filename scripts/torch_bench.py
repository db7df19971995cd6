#!/usr/bin/env python3
"""PyTorch-eager side of finetune/torch's throughput benchmark (BenchmarkThroughput; `make bench-torch`).

Loads the LLaMA model directory the Go benchmark wrote (config.json + model.safetensors with Hugging Face
names), then measures, with the same shapes and thread count as the Go side:
  train: one full fine-tuning step = forward + token cross-entropy + backward + clip_grad_norm_(1.0) +
         torch.optim.AdamW step, on a fixed batch [batch, seq]; tokens/s = batch*seq / fastest of --steps
  gen:   greedy decoding with a key/value cache, batch 1: prefill `prompt` tokens, then `new` tokens one at a
         time; tokens/s = new / fastest of --gens generations
The model is a lean eager implementation (nn.Linear, F.scaled_dot_product_attention, preallocated KV cache),
i.e. the same computation as the Go code, not transformers' LlamaForCausalLM with its extra overhead.
Prints one JSON object: {"train_tok_s": ..., "gen_tok_s": ..., "train_loss": ..., "torch": ...}.

MODEL_DIR/batch.safetensors holds input_ids and targets [batch, seq] and prompt [1, prompt] (I64).
Usage: torch_bench.py MODEL_DIR --threads 2 --steps 3 --new 64 --gens 3

With --batched (BenchmarkBatchedGeneration), MODEL_DIR/prompts.safetensors holds prompts [8, len] (I64) and
only generation is measured, at batch 1 (the first prompt) and batch 8 (all of them): prefill tokens/s is
batch*len / the fastest prefill (one forward pass), decode tokens/s is batch*new / the fastest run of `new`
greedy decode steps after it. Prints {"prefill_b1": ..., "decode_b1": ..., "prefill_b8": ..., "decode_b8": ...}.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file


class Llama(torch.nn.Module):
    def __init__(self, cfg, w):
        super().__init__()
        self.cfg = cfg
        self.h = cfg["hidden_size"]
        self.nh = cfg["num_attention_heads"]
        self.nkv = cfg.get("num_key_value_heads") or self.nh
        self.d = cfg.get("head_dim") or self.h // self.nh
        self.eps = cfg["rms_norm_eps"]
        self.tied = cfg.get("tie_word_embeddings", False)
        self.params = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v.float()) for k, v in w.items()})
        theta = cfg.get("rope_theta", 10000.0)
        inv = 1.0 / (theta ** (torch.arange(0, self.d, 2, dtype=torch.int64).float() / self.d))
        t = torch.arange(cfg["max_position_embeddings"], dtype=torch.float32)
        f = torch.outer(t, inv)
        emb = torch.cat((f, f), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def p(self, name):
        return self.params[name.replace(".", "__")]

    def norm(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    @staticmethod
    def rope(x, cos, sin):
        half = x.shape[-1] // 2
        rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rot * sin

    def forward(self, ids, cache=None, pos=0):
        b, t = ids.shape
        nh, nkv, d = self.nh, self.nkv, self.d
        rep = nh // nkv
        cos, sin = self.cos[pos:pos + t], self.sin[pos:pos + t]
        x = F.embedding(ids, self.p("model.embed_tokens.weight"))
        for i in range(self.cfg["num_hidden_layers"]):
            pre = f"model.layers.{i}."
            hn = self.norm(x, self.p(pre + "input_layernorm.weight"))
            q = F.linear(hn, self.p(pre + "self_attn.q_proj.weight")).view(b, t, nh, d).transpose(1, 2)
            k = F.linear(hn, self.p(pre + "self_attn.k_proj.weight")).view(b, t, nkv, d).transpose(1, 2)
            v = F.linear(hn, self.p(pre + "self_attn.v_proj.weight")).view(b, t, nkv, d).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            if cache is not None:
                kc, vc = cache[i]
                kc[:, :, pos:pos + t] = k
                vc[:, :, pos:pos + t] = v
                k, v = kc[:, :, :pos + t], vc[:, :, :pos + t]
            if cache is not None and t == 1:
                o = F.scaled_dot_product_attention(q.reshape(b, nkv, rep, d), k, v).reshape(b, nh, 1, d)
            else:
                s = k.shape[2]
                k = k[:, :, None].expand(b, nkv, rep, s, d).reshape(b, nh, s, d)
                v = v[:, :, None].expand(b, nkv, rep, s, d).reshape(b, nh, s, d)
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            o = o.transpose(1, 2).reshape(b, t, nh * d)
            x = x + F.linear(o, self.p(pre + "self_attn.o_proj.weight"))
            hn = self.norm(x, self.p(pre + "post_attention_layernorm.weight"))
            g = F.silu(F.linear(hn, self.p(pre + "mlp.gate_proj.weight")))
            u = F.linear(hn, self.p(pre + "mlp.up_proj.weight"))
            x = x + F.linear(g * u, self.p(pre + "mlp.down_proj.weight"))
        x = self.norm(x, self.p("model.norm.weight"))
        head = self.p("model.embed_tokens.weight") if self.tied else self.p("lm_head.weight")
        return F.linear(x, head)


def batched(m, cfg, a):
    prompts = load_file(os.path.join(a.model, "prompts.safetensors"))["prompts"]
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    with torch.no_grad():
        for b in (1, 8):
            p = prompts[:b]
            plen = p.shape[1]

            def run(new):
                cache = [(torch.zeros(b, m.nkv, plen + new + 1, m.d), torch.zeros(b, m.nkv, plen + new + 1, m.d))
                         for _ in range(cfg["num_hidden_layers"])]
                t0 = time.perf_counter()
                logits = m(p, cache, 0)[:, -1]
                nxt = logits.argmax(-1)
                t1 = time.perf_counter()
                toks = [nxt]
                for i in range(new):
                    logits = m(nxt[:, None], cache, plen + i)[:, -1]
                    nxt = logits.argmax(-1)
                    toks.append(nxt)
                return t1 - t0, time.perf_counter() - t1, torch.stack(toks, 1)

            run(2)  # warm-up
            pre, dec = math.inf, math.inf
            for _ in range(a.gens):
                x, y, toks = run(a.new)
                pre, dec = min(pre, x), min(dec, y)
            out[f"prefill_b{b}"] = b * plen / pre
            out[f"decode_b{b}"] = b * a.new / dec
            out[f"ids_b{b}"] = toks.tolist()
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--gens", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batched", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    with open(os.path.join(a.model, "config.json")) as f:
        cfg = json.load(f)
    m = Llama(cfg, load_file(os.path.join(a.model, "model.safetensors")))
    if a.batched:
        return batched(m, cfg, a)
    v = cfg["vocab_size"]
    # The Go benchmark writes the batch and prompt, so both sides compute on the same tokens.
    batch = load_file(os.path.join(a.model, "batch.safetensors"))
    ids, targets, prompt = batch["input_ids"], batch["targets"], batch["prompt"]
    a.batch, a.seq, a.prompt = ids.shape[0], ids.shape[1], prompt.shape[1]

    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.01)

    def step():
        logits = m(ids)
        loss = F.cross_entropy(logits.view(-1, v), targets.view(-1), reduction="sum") / targets.numel()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
        return loss.item()

    first_loss = step()  # warm-up
    # The fastest step: robust to other processes on a shared machine (the Go side does the same).
    train_s = math.inf
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        train_s = min(train_s, time.perf_counter() - t0)

    with torch.no_grad():
        def generate():
            cache = [(torch.zeros(1, m.nkv, a.prompt + a.new, m.d), torch.zeros(1, m.nkv, a.prompt + a.new, m.d))
                     for _ in range(cfg["num_hidden_layers"])]
            logits = m(prompt, cache, 0)[:, -1]
            out = []
            for i in range(a.new):
                nxt = int(logits.argmax(-1))
                out.append(nxt)
                if i + 1 == a.new:
                    break
                logits = m(torch.tensor([[nxt]]), cache, a.prompt + i)[:, -1]
            return out
        generate()  # warm-up
        gen_s = math.inf
        for _ in range(a.gens):
            t0 = time.perf_counter()
            toks = generate()
            gen_s = min(gen_s, time.perf_counter() - t0)
    print(json.dumps({
        "train_tok_s": a.batch * a.seq / train_s, "train_step_s": train_s, "train_loss": loss, "first_loss": first_loss,
        "gen_tok_s": a.new / gen_s, "gen_ids": toks, "torch": torch.__version__, "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
