#!/usr/bin/env python3
"""Has the reference implementations read every export `yardstick finetune export` writes (make export-fixtures).

    make export-fixtures        # all of the below, in order

    go test -tags torch -run TestExportReference ./finetune/torch/ -export-ref DIR   # Yardstick writes the exports
    ~/.cache/yardstick/peft-venv/bin/python finetune/torch/testdata/make_export_fixtures.py DIR
    node finetune/torch/testdata/llamacpp_check.mjs DIR   # (from a directory with node-llama-cpp installed)

DIR holds what TestExportReference wrote (plan.json lists it): the base tiny_llama.gguf (finetune/gguf's
fixture, a random 2-layer LLaMA with a BPE tokenizer and a ChatML template), one PEFT adapter directory per
--lora-targets form (fixed, exactly representable weights), the merged GGUF exports (F16 for every form,
Q8_0, F32 and BF16 for the default one), the GGUF LoRA adapters (F32, and F16 for the default form), a merged
safetensors directory, and a tied-embeddings copy of the base (tiny_llama_tied.gguf, F32, written by
Yardstick's gguf.WriteModel: no output.weight, as SmolLM2 ships) with a default-form adapter on it. This script, in a venv with torch 2.1.2, peft 0.13.2, transformers 4.46.3 and gguf
0.19.0 (pinned in export-requirements.txt), checks and records into testdata/exports/reference.json:

  peft          every adapter loaded with peft.PeftModel.from_pretrained onto transformers' LlamaForCausalLM
                (config tiny_llama_config.json, weights tiny_llama_hf.gguf: transformers' own GGUF loading of
                the base); every LoRA matrix must come from the file (none left at its initial value), and
                the adapted modules must be what the config names ("all-linear" must also match PEFT's own
                expansion of the string "all-linear"); logits on plan["ids"] are recorded.
  transformers  the merged directory loaded with LlamaForCausalLM.from_pretrained and AutoTokenizer; logits
                recorded, and equal to peft's merge_and_unload() of the same adapter.
  gguf          every GGUF export read with gguf.GGUFReader: the metadata llama.cpp needs (architecture,
                hyperparameters, tokenizer.ggml.*, tokenizer.chat_template; for an adapter general.type
                "adapter", adapter.type "lora", adapter.lora.alpha), every tensor's name, type and shape
                (LoRA: blk.N.<name>.weight.lora_a of shape [rank, in], lora_b [out, rank] as
                convert_lora_to_gguf.py writes them), and its values: a merged tensor must dequantise
                (gguf.quants.dequantize) to gguf.quants.quantize of peft's merged weight with Q/K rows
                permuted as convert_hf_to_gguf.py permutes them; a LoRA tensor to the adapter's matrix
                (lora_b of Q/K permuted the same way). Metadata values and a sha256 of each dequantised
                tensor are recorded for the Go test to compare its own reader with.
  files         the sha256 of every export read, so the Go test fails when the writer's bytes change.
  peft_written  the other direction: testdata/exports/peft-all-linear, an adapter PEFT itself saved
                (LoraConfig target_modules="all-linear", random non-zero A and B; PEFT 0.13.2 saves the
                expanded list in set order, so the string form a LoraConfig holds is stored instead, and
                PEFT is checked to load it back identically), with PEFT's logits, for Yardstick to load.

The output is deterministic; rerunning on the same exports rewrites an identical file.
"""
import hashlib
import json
import os
import re
import struct
import sys
import warnings

import numpy as np
import torch

import gguf
from gguf import GGUFReader, GGUFValueType
from gguf import quants
import peft
import safetensors
from safetensors.numpy import load_file
import tokenizers
import transformers
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

warnings.filterwarnings("ignore")
transformers.logging.set_verbosity_error()
torch.manual_seed(0)
torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
GGUF_TESTDATA = os.path.join(HERE, "..", "..", "gguf", "testdata")
OUT = os.path.join(HERE, "exports", "reference.json")

d = sys.argv[1] if len(sys.argv) > 1 else sys.exit("usage: make_export_fixtures.py EXPORT_DIR")
plan = json.load(open(os.path.join(d, "plan.json")))
ids = torch.tensor([plan["ids"]], dtype=torch.long)
stride = plan["vocab_stride"]
ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
GGUF_NAME = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
             "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def sampled(logits):
    """[T, V] → the record the Go test reads: every stride-th id of each row, and each row's argmax."""
    rows = logits.detach().double().numpy()
    return {"values": [[round(float(x), 6) for x in r[::stride]] for r in rows],
            "argmax": [int(r.argmax()) for r in rows]}


# --- the base model, as transformers builds it from the GGUF file ---------------------------------------
cfg_json = json.load(open(os.path.join(GGUF_TESTDATA, "tiny_llama_config.json")))
hf_state = {t.name: torch.from_numpy(np.array(t.data, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)]))
            for t in GGUFReader(os.path.join(GGUF_TESTDATA, "tiny_llama_hf.gguf")).tensors}
config = LlamaConfig(**cfg_json, attn_implementation="eager", torch_dtype="float32")
tied_config = LlamaConfig(**{**cfg_json, "tie_word_embeddings": True}, attn_implementation="eager", torch_dtype="float32")
n_head, n_kv = config.num_attention_heads, config.num_key_value_heads
assert not config.tie_word_embeddings


def base_model(form=None):
    """The base of an adapter: tiny_llama, or for the tied base the same weights without lm_head."""
    tied = form is not None and plan["bases"][form] == plan["tied_base"]
    m = LlamaForCausalLM(tied_config if tied else config).float().eval()
    state = {k: v for k, v in hf_state.items() if not (tied and k == "lm_head.weight")}
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert not unexpected and all(k == "lm_head.weight" and tied for k in missing), (missing, unexpected)
    if tied:
        m.tie_weights()
        assert m.lm_head.weight.data_ptr() == m.model.embed_tokens.weight.data_ptr()
    return m


def permute(w, heads, heads_kv=None):
    """convert_hf_to_gguf.py's LlamaModel.permute: HF rotary halves → llama.cpp's interleaved rows."""
    if heads_kv is not None and heads != heads_kv:
        heads = heads_kv
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_weight(hf_name, w):
    """An HF weight as llama.cpp stores it (Q and K rows permuted)."""
    if hf_name.endswith("q_proj.weight"):
        return permute(w, n_head, n_head)
    if hf_name.endswith("k_proj.weight"):
        return permute(w, n_head, n_kv)
    return w


record = {"versions": {"torch": torch.__version__, "peft": peft.__version__, "transformers": transformers.__version__,
                       "gguf": "0.19.0", "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__},
          "files": {}, "peft": {}, "peft_modules": {}, "transformers": {}, "transformers_tokens": {},
          "transformers_chat": {}, "gguf": {}}
TOKEN_TEXTS = plan["texts"]
for f in plan["files"]:
    record["files"][f] = sha256(os.path.join(d, f))

# --- gguf ---------------------------------------------------------------------------------------------
def field_json(f):
    t = f.types[0]
    if t == GGUFValueType.ARRAY:
        et = f.types[1] if len(f.types) > 1 else GGUFValueType.UINT8
        vals = [f.parts[i] for i in f.data]
        h = hashlib.sha256()
        for v in vals:
            if et == GGUFValueType.STRING:
                b = bytes(v)
                h.update(struct.pack("<Q", len(b)) + b)
            elif et in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
                h.update(struct.pack("<d", float(v[0])))
            elif et == GGUFValueType.BOOL:
                h.update(struct.pack("<?", bool(v[0])))
            else:
                h.update(struct.pack("<q", int(v[0])))
        return {"type": "array", "elem": et.name.lower(), "len": len(vals), "sha256": h.hexdigest()}
    v = f.parts[f.data[0]]
    if t == GGUFValueType.STRING:
        val = bytes(v).decode("utf-8")
    elif t in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
        val = float(v[0])
    elif t == GGUFValueType.BOOL:
        val = bool(v[0])
    else:
        val = int(v[0])
    return {"type": t.name.lower(), "value": val}


def value(r, key):
    f = r.fields[key]
    return field_json(f).get("value")


LLAMA_KEYS = ["general.architecture", "llama.context_length", "llama.embedding_length", "llama.block_count",
              "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
              "llama.attention.layer_norm_rms_epsilon"]
MODEL_KEYS = LLAMA_KEYS + ["llama.rope.freq_base", "general.file_type", "tokenizer.ggml.model", "tokenizer.ggml.pre",
                           "tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
                           "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.chat_template"]
base_r = GGUFReader(os.path.join(d, plan["base"]))
for k in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.chat_template"):
    base_r.fields[k]  # the base has them: the exports must carry them over unchanged


# --- peft --------------------------------------------------------------------------------------------
merged_state = {}
lora_state = {}
with torch.no_grad():
    all_linear = peft.get_peft_model(base_model(), peft.LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    peft_all_linear = sorted(n for n, mod in all_linear.named_modules() if isinstance(mod, peft.tuners.lora.LoraLayer))
    for form, targets in plan["adapters"].items():
        ad = os.path.join(d, form)
        acfg = json.load(open(os.path.join(ad, "adapter_config.json")))
        model = peft.PeftModel.from_pretrained(base_model(form), ad)
        model.eval()
        sd = load_file(os.path.join(ad, "adapter_model.safetensors"))
        lora_state[form] = sd
        layers = {n: mod for n, mod in model.named_modules() if isinstance(mod, peft.tuners.lora.LoraLayer)}
        # every matrix in the model is the file's (PEFT leaves a missing key at its random/zero init)
        n_loaded = 0
        for n, mod in layers.items():
            key = n.replace("base_model.model.", "base_model.model.", 1)
            for part, lin in (("lora_A", mod.lora_A["default"]), ("lora_B", mod.lora_B["default"])):
                want = sd[f"{key}.{part}.weight"]
                assert np.array_equal(lin.weight.detach().numpy(), want), f"{form}: {key}.{part} not loaded from the file"
                n_loaded += 1
        assert n_loaded == len(sd), f"{form}: {len(sd)} tensors in the file, {n_loaded} used by peft"
        layer_of = lambda n: int(re.search(r"layers\.(\d+)\.", n).group(1))
        mods = [f"{layer_of(n)}.{n.rsplit('.', 1)[1]}" for n in layers]
        expected = [m for m in ALL if m in targets or "all-linear" in targets]
        assert sorted(mods) == sorted(f"{l}.{m}" for l in range(config.num_hidden_layers) for m in expected), (form, mods)
        if "all-linear" in targets:
            assert sorted(layers) == peft_all_linear, f"{form}: Yardstick's all-linear list differs from PEFT's string form"
            assert acfg["target_modules"] != "all-linear" and sorted(acfg["target_modules"]) == sorted(ALL)
        key = lambda s: (int(s.split(".")[0]), ALL.index(s.split(".")[1]))
        record["peft_modules"][form] = sorted(mods, key=key)
        out = model(ids).logits[0]
        base_out = base_model(form)(ids).logits[0]
        assert (out - base_out).abs().max() > 0.05, f"{form}: adapter changes nothing"
        record["peft"][form] = sampled(out)
        merged = model.merge_and_unload()
        merged_state[form] = {k: v.detach().numpy().copy() for k, v in merged.state_dict().items()}
        assert (merged(ids).logits[0] - out).abs().max() < 1e-4

    # --- the other direction: an adapter PEFT itself wrote, for Yardstick to load ----------------------
    # target_modules="all-linear" as the string PEFT's users write (the form Yardstick once wrote as a
    # list PEFT could not load), non-zero B so the adapter matters, base named relative to the adapter.
    out_dir = os.path.join(HERE, "exports", "peft-all-linear")
    pm = peft.get_peft_model(base_model(), peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear",
                                                          task_type="CAUSAL_LM"))
    g = torch.Generator().manual_seed(1313)
    for n, p in pm.named_parameters():
        if "lora_" in n:
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    pm.peft_config["default"].base_model_name_or_path = "../../../../gguf/testdata/tiny_llama.gguf"
    pm.eval()
    pm.save_pretrained(out_dir)
    for extra in ("README.md",):
        if os.path.exists(os.path.join(out_dir, extra)):
            os.remove(os.path.join(out_dir, extra))
    # PEFT 0.13.2 saves "all-linear" expanded, as a list in set order (it varies run to run); the string
    # form is what a LoraConfig says and what PEFT loads: store that, and check PEFT loads it back.
    cpath = os.path.join(out_dir, "adapter_config.json")
    acfg = json.load(open(cpath))
    assert sorted(acfg["target_modules"]) == sorted(ALL), acfg["target_modules"]
    acfg["target_modules"] = "all-linear"
    with open(cpath, "w") as f:
        json.dump(acfg, f, indent=2, sort_keys=True)
        f.write("\n")
    want = pm(ids).logits[0]
    back = peft.PeftModel.from_pretrained(base_model(), out_dir).eval()
    assert (back(ids).logits[0] - want).abs().max() == 0
    assert (want - base_model()(ids).logits[0]).abs().max() > 0.05
    record["peft_written"] = {"peft-all-linear": sampled(want)}

    # --- transformers on the merged directory --------------------------------------------------------
    for mdir in plan["merged_hf"]:
        form = mdir.removesuffix("-merged")
        m = LlamaForCausalLM.from_pretrained(os.path.join(d, mdir), torch_dtype=torch.float32, attn_implementation="eager").eval()
        out = m(ids).logits[0]
        for k, v in m.state_dict().items():
            assert np.array_equal(v.numpy(), merged_state[form][k]), f"{mdir}: {k} is not peft's merge"
        # the tokenizer and chat template travel with the merged model: transformers reads the base GGUF's
        tok = AutoTokenizer.from_pretrained(os.path.join(d, mdir))
        assert tok.chat_template == value(base_r, "tokenizer.chat_template"), f"{mdir}: chat template differs from the base's"
        chat = tok.apply_chat_template([{"role": "user", "content": "Hi!"}], tokenize=False, add_generation_prompt=True)
        assert chat.endswith("<|im_start|>assistant\n"), chat
        record["transformers"][mdir] = sampled(out)
        record["transformers_tokens"][mdir] = {s: tok(s, add_special_tokens=False)["input_ids"] for s in TOKEN_TEXTS}
        record["transformers_chat"][mdir] = {"text": chat, "ids": tok(chat, add_special_tokens=False)["input_ids"]}


def gguf_record(name, r):
    rec = {"metadata": {}, "tensors": []}
    for k, f in r.fields.items():
        if k.startswith("GGUF."):
            continue
        rec["metadata"][k] = field_json(f)
    for t in r.tensors:
        deq = quants.dequantize(t.data, t.tensor_type).astype("<f4")
        rec["tensors"].append({"name": t.name, "type": t.tensor_type.name, "shape": [int(x) for x in t.shape],
                               "sha256": hashlib.sha256(deq.tobytes()).hexdigest()})
    return rec


hf_of = {}
for i in range(config.num_hidden_layers):
    for m in ALL:
        grp = "mlp" if m in ("gate_proj", "up_proj", "down_proj") else "self_attn"
        hf_of[f"blk.{i}.{GGUF_NAME[m]}.weight"] = f"model.layers.{i}.{grp}.{m}.weight"
hf_of.update({"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
              "output.weight": "lm_head.weight"})
for i in range(config.num_hidden_layers):
    hf_of[f"blk.{i}.attn_norm.weight"] = f"model.layers.{i}.input_layernorm.weight"
    hf_of[f"blk.{i}.ffn_norm.weight"] = f"model.layers.{i}.post_attention_layernorm.weight"

# the tied base Yardstick wrote (F32): tiny_llama's weights as convert_hf_to_gguf.py would store them, no
# output.weight (llama.cpp then uses token_embd), the base's tokenizer and template
r = GGUFReader(os.path.join(d, plan["tied_base"]))
assert "output.weight" not in [t.name for t in r.tensors]
for k in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.chat_template",
          "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"):
    assert field_json(r.fields[k]) == field_json(base_r.fields[k]), f"tied base: {k} differs from the base's"
assert {t.name for t in r.tensors} == set(hf_of) - {"output.weight"}
for t in r.tensors:
    assert t.tensor_type == gguf.GGMLQuantizationType.F32
    w = hf_state[hf_of[t.name]].numpy()
    assert np.asarray(t.data).tobytes() == np.ascontiguousarray(gguf_weight(hf_of[t.name], w)).tobytes(), t.name
record["gguf"][plan["tied_base"]] = gguf_record(plan["tied_base"], r)

for name in plan["merged_gguf"]:
    r = GGUFReader(os.path.join(d, name))
    form, typ = re.match(r"(.+)-merged-(\w+)\.gguf$", name).groups()
    want_type = {"f16": gguf.GGMLQuantizationType.F16, "q8_0": gguf.GGMLQuantizationType.Q8_0,
                 "f32": gguf.GGMLQuantizationType.F32, "bf16": gguf.GGMLQuantizationType.BF16}[typ]
    for k in MODEL_KEYS:
        assert k in r.fields, f"{name}: no {k}"
    assert value(r, "general.architecture") == "llama"
    for k in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.chat_template",
              "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"):
        assert field_json(r.fields[k]) == field_json(base_r.fields[k]), f"{name}: {k} differs from the base's"
    for k in LLAMA_KEYS:
        a, b = value(r, k), value(base_r, k)
        assert (a == b) if not isinstance(a, float) else abs(a - b) < 1e-12, (name, k, a, b)
    seen = set()
    for t in r.tensors:
        hf = hf_of[t.name]
        seen.add(hf)
        w = merged_state[form][hf]
        is_vec = w.ndim == 1
        expect_type = gguf.GGMLQuantizationType.F32 if is_vec else want_type
        assert t.tensor_type == expect_type, (name, t.name, t.tensor_type)
        assert [int(x) for x in t.shape] == list(reversed(w.shape)), (name, t.name, t.shape, w.shape)
        ref_w = np.ascontiguousarray(gguf_weight(hf, w).astype(np.float32))
        if expect_type == gguf.GGMLQuantizationType.F32:
            exp_bytes = ref_w.tobytes()
        else:
            exp_bytes = np.ascontiguousarray(quants.quantize(ref_w, expect_type)).tobytes()
        assert bytes(np.asarray(t.data).tobytes()) == exp_bytes, f"{name}: {t.name} is not quantize(peft's merged weight)"
    tied = plan["bases"][form] == plan["tied_base"]
    assert seen == set(merged_state[form]) - ({"lm_head.weight"} if tied else set()), (name, seen)
    record["gguf"][name] = gguf_record(name, r)

for name, form in plan["lora_gguf"].items():
    r = GGUFReader(os.path.join(d, name))
    assert value(r, "general.type") == "adapter", name
    assert value(r, "adapter.type") == "lora", name
    assert r.fields["adapter.lora.alpha"].types[0] == GGUFValueType.FLOAT32
    acfg = json.load(open(os.path.join(d, form, "adapter_config.json")))
    assert value(r, "adapter.lora.alpha") == float(acfg["lora_alpha"]), name
    assert value(r, "general.architecture") == "llama"
    typ = name.rsplit("-", 1)[1].removesuffix(".gguf")
    want_type = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16}[typ]
    sd = lora_state[form]
    assert len(r.tensors) == len(sd), (name, len(r.tensors), len(sd))
    for t in r.tensors:
        m = re.fullmatch(r"(blk\.\d+\.\w+\.weight)\.lora_([ab])", t.name)
        assert m, f"{name}: tensor name {t.name} is not llama.cpp's blk.N.<name>.weight.lora_a/b"
        hf = hf_of[m.group(1)]
        mat = sd["base_model.model." + hf.removesuffix(".weight") + (".lora_A.weight" if m.group(2) == "a" else ".lora_B.weight")]
        assert t.tensor_type == want_type, (name, t.name, t.tensor_type)
        # convert_lora_to_gguf.py: lora_a is PEFT's A [rank, in] (GGUF ne [in, rank]), lora_b is B [out, rank]
        assert [int(x) for x in t.shape] == list(reversed(mat.shape)), (name, t.name, t.shape, mat.shape)
        ref_m = gguf_weight(hf, mat) if m.group(2) == "b" else mat
        ref_m = np.ascontiguousarray(ref_m.astype(np.float32))
        exp = ref_m.tobytes() if want_type == gguf.GGMLQuantizationType.F32 else quants.quantize(ref_m, want_type).tobytes()
        assert bytes(np.asarray(t.data).tobytes()) == exp, f"{name}: {t.name} differs from the adapter's matrix"
    record["gguf"][name] = gguf_record(name, r)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(record, f, indent=1, sort_keys=True, ensure_ascii=False)
    f.write("\n")
print(f"wrote {OUT}: peft {sorted(record['peft'])}, transformers {sorted(record['transformers'])}, gguf {len(record['gguf'])} files")
