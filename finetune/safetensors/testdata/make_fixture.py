#!/usr/bin/env python3
"""Regenerates the safetensors fixtures used by the Go tests (not run by the tests).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install safetensors numpy ml_dtypes
    /tmp/venv/bin/python finetune/safetensors/testdata/make_fixture.py finetune/safetensors/testdata

Writes:
  fixture.safetensors   tensors of every supported dtype, written by safetensors.numpy.save_file
  fixture.json          the expected dtype, shape and values of each tensor (floats as float32 bit
                        patterns, so NaN/Inf/-0 are exact)
  conversions.json      float32 bit patterns with numpy's float16 and ml_dtypes' bfloat16 conversions
"""
import json
import struct
import sys

import ml_dtypes
import numpy as np
import safetensors
from safetensors.numpy import save_file

out = sys.argv[1] if len(sys.argv) > 1 else "."
rng = np.random.default_rng(20240601)

f16_vals = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1e-5, 5.96e-8, np.inf, -np.inf, np.nan, 0.333, 1e4], np.float32)
tensors = {
    "model.embed_tokens.weight": rng.standard_normal((4, 3)).astype(np.float32),
    "model.layers.0.mlp.up_proj.weight": rng.standard_normal((2, 3)).astype(np.float16),
    "f16.special": f16_vals.astype(np.float16).reshape(3, 4),
    "bf16": (rng.standard_normal(6) * 100).astype(np.float32).astype(ml_dtypes.bfloat16).reshape(2, 3),
    "f64": np.array([1.0 / 3.0, -1e-300, 1e300], np.float64),
    "i64": np.array([0, -1, 2**62, -(2**40), 7], np.int64),
    "i32": np.array([[1, -2], [2**31 - 1, -(2**31)]], np.int32),
    "scalar": np.array(3.25, np.float32),
    "empty": np.zeros((0, 4), np.float32),
    "u8": np.array([0, 255, 7], np.uint8),
    "name with \"quotes\", ünïcödé \\ and\ttab": np.array([1.5], np.float32),
}
metadata = {"format": "pt"}
save_file(tensors, f"{out}/fixture.safetensors", metadata=metadata)


def f32_bits(a):
    return [int(x) for x in np.asarray(a, np.float32).reshape(-1).view(np.uint32)]


expected = {"safetensors_version": safetensors.__version__, "metadata": metadata, "tensors": {}}
for name, a in tensors.items():
    dtype = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int64": "I64",
             "int32": "I32", "uint8": "U8"}[str(a.dtype)]
    e = {"dtype": dtype, "shape": list(a.shape)}
    if dtype in ("F32", "F16", "BF16", "F64"):
        e["f32_bits"] = f32_bits(a.astype(np.float32))
    else:
        e["ints"] = [int(x) for x in a.reshape(-1)]
    expected["tensors"][name] = e
with open(f"{out}/fixture.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True, ensure_ascii=False)
    f.write("\n")

# Conversion table: edge cases, values next to rounding boundaries, and random bit patterns.
bits = [0x00000000, 0x80000000, 0x3F800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
        0x7FA00000, 0x7F802000, 0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x47800000, 0x38800000,
        0x387FFFFF, 0x33800000, 0x33000000, 0x33000001, 0x32FFFFFF, 0x00000001, 0x00800000, 0x7F7FFFFF,
        0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF, 0x3F801000, 0x3F803000, 0x3F801001, 0x3F800FFF]
for _ in range(1500):
    bits.append(int(rng.integers(0, 2**32, dtype=np.uint64)))
for _ in range(1500):  # dense around the float16 range, where rounding matters most
    e = int(rng.integers(100, 145))
    bits.append((int(rng.integers(0, 2)) << 31) | (e << 23) | int(rng.integers(0, 2**23)))
for _ in range(500):  # exact ties for f16 (low 13 bits = 0x1000) and bf16 (low 16 bits = 0x8000)
    e = int(rng.integers(100, 145))
    m = int(rng.integers(0, 2**10)) << 13 | 0x1000
    bits.append((e << 23) | m)
    bits.append((e << 23) | (int(rng.integers(0, 2**7)) << 16) | 0x8000)
arr = np.array(bits, np.uint32).view(np.float32)
with np.errstate(over="ignore"):
    f16 = arr.astype(np.float16).view(np.uint16)
bf16 = arr.astype(ml_dtypes.bfloat16).view(np.uint16)
conv = {"numpy_version": np.__version__, "ml_dtypes_version": ml_dtypes.__version__,
        "f32_bits": [int(b) for b in bits], "f16_bits": [int(x) for x in f16], "bf16_bits": [int(x) for x in bf16]}
with open(f"{out}/conversions.json", "w") as f:
    json.dump(conv, f, separators=(",", ":"))
    f.write("\n")
