#!/usr/bin/env python3
"""Writes suites/testdata/hf/train.parquet with pyarrow, the writer Hugging Face
datasets use, so the suites package is tested on a Parquet file as published:
string, int64, double, bool and null columns, a list column and a nested struct.

    python3 -m venv ~/.cache/yardstick/parquet-venv
    ~/.cache/yardstick/parquet-venv/bin/pip install pyarrow
    ~/.cache/yardstick/parquet-venv/bin/python scripts/gen_parquet_fixture.py
"""
import os

import pyarrow as pa
import pyarrow.parquet as pq

rows = [
    {"idx": 0, "question": "배송은 며칠 걸리나요?", "answer": "배송은 보통 3~5영업일 걸립니다.\n#### 3~5영업일",
     "meta": {"source": "faq", "lang": "ko"}, "choices": ["교환", "환불", "배송"], "score": 0.5, "verified": True, "note": None},
    {"idx": 1, "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?",
     "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
     "meta": {"source": "gsm8k", "lang": "en"}, "choices": ["clips"], "score": 1.25, "verified": False, "note": "x"},
    {"idx": 2, "question": "送料はいくらですか？", "answer": "送料は全国一律５００円です。\n#### 500",
     "meta": {"source": "faq", "lang": "ja"}, "choices": ["返品"], "score": -2.0, "verified": True, "note": None},
]
schema = pa.schema([
    ("idx", pa.int64()),
    ("question", pa.string()),
    ("answer", pa.string()),
    ("meta", pa.struct([("source", pa.string()), ("lang", pa.string())])),
    ("choices", pa.list_(pa.string())),
    ("score", pa.float64()),
    ("verified", pa.bool_()),
    ("note", pa.string()),
])
out = os.path.join(os.path.dirname(__file__), "..", "suites", "testdata", "hf", "train.parquet")
pq.write_table(pa.Table.from_pylist(rows, schema=schema), out, compression="snappy")
print("wrote", os.path.normpath(out))
