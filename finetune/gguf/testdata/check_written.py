#!/usr/bin/env python3
"""Checks the GGUF files Yardstick's Go writer produced with the reference readers, and records the verdict.

    go test ./finetune/gguf -run Write -update          # rewrites testdata/written_*.gguf
    ~/.cache/yardstick/gguf-venv/bin/python finetune/gguf/testdata/check_written.py finetune/gguf/testdata

The Go tests require the written files to be byte-identical to the committed ones and written_check.json
to record that every check below passed, so the verdict applies to the current writer.

written_F16.gguf, written_Q8_0.gguf (the tiny LLaMA of tiny_llama.gguf written back):
  - gguf-py reads them; tensor names, GGUF shapes and types are those llama.cpp's converter writes;
  - dequantised by gguf-py and un-permuted by transformers' LlamaTensorProcessor, every tensor equals
    tiny_llama_hf.gguf (transformers' view of the original) up to the type's own rounding: gguf-py's
    quantize-then-dequantize of that original, exactly;
  - transformers' load_gguf_checkpoint reads the same config as from tiny_llama.gguf;
  - transformers' GGUF tokenizer gives the same ids as for tiny_llama.gguf on every test string.
written_lora.gguf: general.type adapter, adapter.type lora, alpha, and lora_a/lora_b tensors with the
  shapes llama.cpp's LoRA loader checks (a.ne = [in, rank], b.ne = [rank, out]) for each adapted weight.
"""
import json
import sys

import numpy as np

import types

from gguf import GGUFReader, GGMLQuantizationType as T, quants
import gguf
import transformers.modeling_gguf_pytorch_utils as tgguf
from transformers.integrations.gguf.gguf_tokenizer_mapping import get_gguf_tokenizer, convert_gguf_tokenizer

# As in make_fixtures.py: transformers' GGUF metadata reader imports torch only to name dtypes.
if "torch" not in sys.modules:
    try:
        import torch  # noqa: F401
    except ImportError:
        _t = types.ModuleType("torch")
        _t.__getattr__ = lambda name: object
        sys.modules["torch"] = _t
tgguf.is_torch_available = lambda: True

out = sys.argv[1] if len(sys.argv) > 1 else "."
results = {}


def fail(name, msg):
    results[name] = {"ok": False, "error": msg}
    print("FAIL", name, msg)


def field(r, key):
    f = r.fields.get(key)
    return None if f is None else f.contents()


ref = {t.name: np.array(t.data, dtype=np.float32) for t in GGUFReader(f"{out}/tiny_llama_hf.gguf").tensors}
orig = GGUFReader(f"{out}/tiny_llama.gguf")
ref_cfg = tgguf.load_gguf_checkpoint(f"{out}/tiny_llama.gguf", return_tensors=False)["config"]
texts = [c["text"] for c in json.load(open(f"{out}/tok_expected.json"))["files"]["smollm"]]
arch, td, _ = get_gguf_tokenizer(f"{out}/tiny_llama.gguf")
ref_tok, _ = convert_gguf_tokenizer(arch, td)
ref_ids = [ref_tok.encode(s, add_special_tokens=False).ids for s in texts]

for typ in ["F16", "Q8_0"]:
    name = f"written_{typ}.gguf"
    try:
        r = GGUFReader(f"{out}/{name}")
        cfg = tgguf.load_gguf_checkpoint(f"{out}/{name}", return_tensors=False)["config"]
        proc = tgguf.LlamaTensorProcessor(config=cfg)
        diffs = {k: (cfg.get(k), ref_cfg.get(k)) for k in ref_cfg if k != "_model_name_or_path" and cfg.get(k) != ref_cfg.get(k)}
        if diffs:
            raise AssertionError(f"config differs: {diffs}")
        names = [t.name for t in r.tensors]
        if sorted(names) != sorted(t.name for t in orig.tensors):
            raise AssertionError(f"tensor names {names}")
        hfname = {t.name: n for t, n in zip(orig.tensors, ref)}  # same order as written by make_fixtures
        for t in r.tensors:
            want_type = T.F32 if len(t.shape) == 1 else T[typ]
            if t.tensor_type != want_type:
                raise AssertionError(f"{t.name}: type {t.tensor_type.name}, want {want_type.name}")
            got = proc.process(gguf.dequantize(t.data, t.tensor_type), t.name).weights
            base = ref[hfname[t.name]]
            if want_type == T.F32:
                expect = base
            else:
                expect = quants.dequantize(np.ascontiguousarray(quants.quantize(base, want_type)), want_type).reshape(base.shape)
            if got.shape != base.shape or not np.array_equal(got.astype(np.float32), expect.astype(np.float32)):
                raise AssertionError(f"{t.name}: values differ (max {np.max(np.abs(got - expect))})")
        arch, td, _ = get_gguf_tokenizer(f"{out}/{name}")
        tok, _ = convert_gguf_tokenizer(arch, td)
        bad = [s for s, want in zip(texts, ref_ids) if tok.encode(s, add_special_tokens=False).ids != want]
        if bad:
            raise AssertionError(f"{len(bad)} texts tokenize differently, first {bad[0]!r}")
        if field(r, "tokenizer.chat_template") != field(orig, "tokenizer.chat_template"):
            raise AssertionError("chat template differs")
        results[name] = {"ok": True, "tensors": len(names), "texts": len(texts)}
    except Exception as e:  # record, so the Go test names the failure
        fail(name, repr(e))

name = "written_lora.gguf"
try:
    r = GGUFReader(f"{out}/{name}")
    assert field(r, "general.type") == "adapter", field(r, "general.type")
    assert field(r, "adapter.type") == "lora"
    assert abs(field(r, "adapter.lora.alpha") - 8.0) < 1e-6
    base = {t.name: [int(x) for x in t.shape] for t in orig.tensors}  # GGUF ne order
    pairs = 0
    for t in r.tensors:
        if t.name.endswith(".lora_a"):
            w = base[t.name[: -len(".lora_a")]]
            b = next(x for x in r.tensors if x.name == t.name[: -1] + "b")
            a_ne, b_ne = [int(x) for x in t.shape], [int(x) for x in b.shape]
            assert a_ne[0] == w[0] and b_ne[1] == w[1] and a_ne[1] == b_ne[0], (t.name, a_ne, b_ne, w)
            pairs += 1
    assert pairs == 14, pairs
    results[name] = {"ok": True, "pairs": pairs}
except Exception as e:
    fail(name, repr(e))

with open(f"{out}/written_check.json", "w") as f:
    json.dump(results, f, indent=1, sort_keys=True)
print(json.dumps(results))
