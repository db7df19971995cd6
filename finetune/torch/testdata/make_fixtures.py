#!/usr/bin/env python3
"""Make the parity fixtures for finetune/torch's tests.

Writes, for two tiny random LLaMA models (untied and tied embeddings):
  testdata/<name>/config.json        Hugging Face LlamaConfig
  testdata/<name>/model.safetensors  random float32 weights, HF LlamaForCausalLM tensor names
  testdata/<name>/reference.safetensors
      input_ids [2, 9] (I64), targets [2, 9] (I64, -100 where the loss ignores the token)
      logits [2, 9, V]                               forward pass
      loss [1]                                       mean token cross-entropy over non-ignored targets
      grad.<hf name>                                 gradient of loss for every base weight (full fine-tuning)
      lora.<peft name>                               LoRA A/B before the step (B random, not zero, so A gets gradient)
      lora_loss [1], lora_grad.<peft name>           loss and gradients with the adapter, base frozen
      lora_step.<peft name>                          A/B after clip_grad_norm_(1.0) + one torch.optim.AdamW step

The reference is an independent re-implementation in plain PyTorch, evaluated in float64 from the float32
weights (so the Go side, which runs float32, is compared against the exact value). When the `transformers`
package is importable, the script also checks that LlamaForCausalLM (float32, eager attention) produces the
same logits from the same safetensors file, which pins the tensor naming and rotary conventions to HF's.

Usage (PyTorch 2.1.2 from PyPI, the same libtorch the Go side links):
  python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.1.2 "numpy<2" safetensors
  /tmp/torchvenv/bin/python finetune/torch/testdata/make_fixtures.py
The output is deterministic (fixed seeds); rerunning rewrites identical files.
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))

LORA = dict(r=4, alpha=8.0, targets=["q_proj", "v_proj", "o_proj", "up_proj", "down_proj"])
ADAMW = dict(lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
CLIP = 1.0


def config(tied):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 64,
        "intermediate_size": 160,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0,
        "vocab_size": 128,
        "max_position_embeddings": 256,
        "tie_word_embeddings": tied,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float32",
        "initializer_range": 0.02,
        "attention_bias": False,
        "mlp_bias": False,
    }


def weights(cfg, gen):
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]

    def rnd(*shape, std=0.2):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * std).float()

    w = {"model.embed_tokens.weight": rnd(v, h, std=0.5)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = 1 + rnd(h, std=0.1)
        w[p + "self_attn.q_proj.weight"] = rnd(nh * d, h)
        w[p + "self_attn.k_proj.weight"] = rnd(nkv * d, h)
        w[p + "self_attn.v_proj.weight"] = rnd(nkv * d, h)
        w[p + "self_attn.o_proj.weight"] = rnd(h, nh * d)
        w[p + "post_attention_layernorm.weight"] = 1 + rnd(h, std=0.1)
        w[p + "mlp.gate_proj.weight"] = rnd(i, h)
        w[p + "mlp.up_proj.weight"] = rnd(i, h)
        w[p + "mlp.down_proj.weight"] = rnd(h, i)
    w["model.norm.weight"] = 1 + rnd(h, std=0.1)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rnd(v, h)
    return w


# ---- independent reference implementation (float64) ----

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    d = x.shape[-1] // 2
    return torch.cat((-x[..., d:], x[..., :d]), dim=-1)


def rope_tables(cfg, t):
    d = cfg["head_dim"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    f = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((f, f), dim=-1)
    return emb.cos(), emb.sin()


def forward(cfg, w, ids, lora=None):
    """w: name -> float64 tensor. lora: name(base module) -> (A, B) float64, scale applied here."""
    b, t = ids.shape
    nh, nkv, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    scale = LORA["alpha"] / LORA["r"]

    def lin(name, x):
        y = x @ w[name + ".weight"].T
        if lora is not None and name in lora:
            a, bb = lora[name]
            y = y + scale * ((x @ a.T) @ bb.T)
        return y

    cos, sin = rope_tables(cfg, t)
    h = w["model.embed_tokens.weight"][ids]
    mask = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = lin(p + "self_attn.q_proj", x).view(b, t, nh, d).transpose(1, 2)
        k = lin(p + "self_attn.k_proj", x).view(b, t, nkv, d).transpose(1, 2)
        v = lin(p + "self_attn.v_proj", x).view(b, t, nkv, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d) + mask
        o = att.softmax(-1) @ v
        o = o.transpose(1, 2).reshape(b, t, nh * d)
        h = h + lin(p + "self_attn.o_proj", o)
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(lin(p + "mlp.gate_proj", x))
        h = h + lin(p + "mlp.down_proj", g * lin(p + "mlp.up_proj", x))
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return h @ head.T


def loss_of(logits, targets):
    v = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, v), targets.reshape(-1), ignore_index=-100)


def peft(module, which):
    return f"base_model.model.{module}.lora_{which}.weight"


def make(name, tied, seed):
    cfg = config(tied)
    gen = torch.Generator().manual_seed(seed)
    w32 = weights(cfg, gen)
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    save_file(w32, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})

    b, t, v = 2, 9, cfg["vocab_size"]
    ids = torch.randint(0, v, (b, t), generator=gen)
    targets = torch.randint(0, v, (b, t), generator=gen)
    targets[0, :3] = -100  # a prompt: no loss on it
    targets[1, 5:] = -100  # padding at the end
    ref = {"input_ids": ids, "targets": targets}

    # Full fine-tuning: forward, loss, gradients of every base weight.
    w = {k: x.double().requires_grad_() for k, x in w32.items()}
    logits = forward(cfg, w, ids)
    loss = loss_of(logits, targets)
    loss.backward()
    ref["logits"] = logits.detach().float()
    ref["loss"] = loss.detach().float().reshape(1)
    for k, x in w.items():
        ref["grad." + k] = x.grad.float()

    # LoRA: base frozen, A and B random (float32 values), one AdamW step after clipping.
    lora32 = {}
    for l in range(cfg["num_hidden_layers"]):
        for mod in LORA["targets"]:
            sect = "self_attn" if mod.endswith(("q_proj", "k_proj", "v_proj", "o_proj")) else "mlp"
            base = f"model.layers.{l}.{sect}.{mod}"
            out_f, in_f = w32[base + ".weight"].shape
            a = (torch.rand(LORA["r"], in_f, generator=gen, dtype=torch.float64) * 2 - 1) / math.sqrt(in_f)
            bb = torch.randn(out_f, LORA["r"], generator=gen, dtype=torch.float64) * 0.1
            lora32[base] = (a.float(), bb.float())
    wd = {k: x.double() for k, x in w32.items()}
    lora = {k: (a.double().requires_grad_(), bb.double().requires_grad_()) for k, (a, bb) in lora32.items()}
    lloss = loss_of(forward(cfg, wd, ids, lora), targets)
    lloss.backward()
    ref["lora_loss"] = lloss.detach().float().reshape(1)
    params = []
    for base, (a, bb) in lora.items():
        ref["lora." + peft(base, "A")] = lora32[base][0]
        ref["lora." + peft(base, "B")] = lora32[base][1]
        ref["lora_grad." + peft(base, "A")] = a.grad.float()
        ref["lora_grad." + peft(base, "B")] = bb.grad.float()
        params += [a, bb]
    torch.nn.utils.clip_grad_norm_(params, CLIP)
    opt = torch.optim.AdamW(params, **ADAMW)
    opt.step()
    for base, (a, bb) in lora.items():
        ref["lora_step." + peft(base, "A")] = a.detach().float()
        ref["lora_step." + peft(base, "B")] = bb.detach().float()

    save_file({k: x.contiguous() for k, x in ref.items()}, os.path.join(out, "reference.safetensors"),
              metadata={"lora": json.dumps(LORA), "adamw": json.dumps(ADAMW), "clip": str(CLIP)})
    for f in ("model.safetensors", "reference.safetensors"):
        os.chmod(os.path.join(out, f), 0o644)
    check_with_transformers(cfg, out, ids, ref["logits"])
    print(f"{name}: loss {ref['loss'].item():.6f}  lora_loss {ref['lora_loss'].item():.6f}")


def check_with_transformers(cfg, out, ids, want):
    try:
        from transformers import LlamaConfig, LlamaForCausalLM
    except ImportError:
        print("transformers not installed: skipping the LlamaForCausalLM cross-check", file=sys.stderr)
        return
    hf = LlamaForCausalLM.from_pretrained(out, torch_dtype=torch.float32, attn_implementation="eager")
    with torch.no_grad():
        got = hf(ids).logits
    diff = (got - want).abs().max().item()
    print(f"  transformers LlamaForCausalLM vs reference: max |Δlogit| = {diff:.2e}")
    if diff > 1e-4:
        sys.exit(f"{out}: transformers disagrees with the reference implementation ({diff})")


if __name__ == "__main__":
    torch.set_num_threads(1)
    make("tiny", tied=False, seed=1234)
    make("tiny-tied", tied=True, seed=5678)
