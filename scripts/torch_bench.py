#!/usr/bin/env python3
"""PyTorch-eager side of finetune/torch's benchmarks (BenchmarkThroughput, BenchmarkBatchedGeneration;
`make bench-torch`).

A long-lived worker: the Go benchmark starts it once, and it answers one JSON request per stdin line with one
JSON line on stdout, so Go and PyTorch rounds interleave (Go, PyTorch, Go, PyTorch, ...) and neither Python's
start-up nor model loading is timed:

  {"op": "load", "model": DIR, "threads": 2, "seed": 1}
      loads the LLaMA model directory the Go benchmark wrote (config.json + model.safetensors with Hugging Face
      names); -> {"torch": version, "threads": n}
  {"op": "train", "batch": FILE, "steps": n}
      FILE holds input_ids and targets [batch, seq] (I64). A fresh copy of the loaded weights and a fresh
      torch.optim.AdamW, one warm-up step, then n timed full fine-tuning steps = forward + token cross-entropy +
      backward + clip_grad_norm_(1.0) + AdamW step; -> {"train_tok_s": batch*seq / fastest step,
      "first_loss": the warm-up step's loss, ...}. Later "gen" requests use the weights it trained (the Go
      side, too, generates after training).
  {"op": "gen", "prompts": [[id, ...], ...], "new": n}
      greedy decoding of all prompts at once (one batch, equal lengths) with a preallocated key/value cache:
      one prefill forward pass, then n-1 single-token steps (n tokens per row); -> {"seconds": wall time of the
      whole generation, "ids": [[id, ...], ...]}

The model is a lean eager implementation (nn.Linear, F.scaled_dot_product_attention, preallocated KV cache),
i.e. the same computation as the Go code, not transformers' LlamaForCausalLM with its extra overhead. Errors
come back as {"error": "..."}.

Usage: torch_bench.py   (requests on stdin)
"""
import gc
import json
import sys
import time
import traceback

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
        self.params = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v.float().clone()) for k, v in w.items()})
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


class Worker:
    def __init__(self):
        self.cfg = self.weights = self.model = None

    def load(self, req):
        torch.set_num_threads(int(req.get("threads", 2)))
        torch.manual_seed(int(req.get("seed", 1)))
        with open(req["model"] + "/config.json") as f:
            self.cfg = json.load(f)
        self.weights = load_file(req["model"] + "/model.safetensors")
        self.model = Llama(self.cfg, self.weights)
        return {"torch": torch.__version__, "threads": torch.get_num_threads()}

    def train(self, req):
        # Fresh weights and optimizer each time, as the Go side reloads its model each round; the previous
        # round's model goes first, so rounds do not accumulate memory.
        self.model = None
        gc.collect()
        m = Llama(self.cfg, self.weights)
        batch = load_file(req["batch"])
        ids, targets = batch["input_ids"], batch["targets"]
        v = self.cfg["vocab_size"]
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
        fastest = float("inf")
        for _ in range(int(req["steps"])):
            t0 = time.perf_counter()
            loss = step()
            fastest = min(fastest, time.perf_counter() - t0)
        self.model = m  # later "gen" requests decode with the trained weights, as the Go side does
        return {"train_tok_s": ids.numel() / fastest, "train_step_s": fastest, "first_loss": first_loss, "train_loss": loss}

    def gen(self, req):
        m, new = self.model, int(req["new"])
        p = torch.tensor(req["prompts"], dtype=torch.int64)
        b, plen = p.shape
        with torch.no_grad():
            cache = [(torch.zeros(b, m.nkv, plen + new, m.d), torch.zeros(b, m.nkv, plen + new, m.d))
                     for _ in range(self.cfg["num_hidden_layers"])]
            t0 = time.perf_counter()
            nxt = m(p, cache, 0)[:, -1].argmax(-1)
            toks = [nxt]
            for i in range(new - 1):
                nxt = m(nxt[:, None], cache, plen + i)[:, -1].argmax(-1)
                toks.append(nxt)
            seconds = time.perf_counter() - t0
        return {"seconds": seconds, "ids": torch.stack(toks, 1).tolist()}


def main():
    w = Worker()
    ops = {"load": w.load, "train": w.train, "gen": w.gen}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            res = ops[req["op"]](req)
        except Exception:
            res = {"error": traceback.format_exc()}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
