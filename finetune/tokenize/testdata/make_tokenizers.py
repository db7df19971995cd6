#!/usr/bin/env python3
"""Regenerates the tokenizer fixtures used by the Go tests (not run by the tests).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install tokenizers
    /tmp/venv/bin/python finetune/tokenize/testdata/make_tokenizers.py finetune/tokenize/testdata

Trains two tiny byte-level BPE tokenizers with Hugging Face `tokenizers` on a synthetic corpus:
  smol.json    SmolLM2-style: Digits(individual) + ByteLevel(use_regex) pre-tokenizer, ChatML specials
  llama3.json  Llama-3-style: Split(Llama-3 regex, Isolated) + ByteLevel(no regex), ignore_merges,
               Llama-3 specials, a TemplateProcessing post-processor that adds <|begin_of_text|>
  llama2.json  Llama-2/TinyLlama-style SentencePiece BPE: Prepend+Replace normalizer, byte_fallback,
               fuse_unk, <unk>; Replace/ByteFallback/Fuse/Strip decoder
  metaspace.json  the newer SentencePiece conversion: Metaspace(prepend_scheme=first) pre-tokenizer
               and decoder, byte_fallback
and writes expected.json: for every tokenizer and test string, the ids of
encode(text, add_special_tokens=False) and decode(ids, skip_special_tokens=False).
"""
import json
import random
import sys

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

out = sys.argv[1] if len(sys.argv) > 1 else "."

rnd = random.Random(7)
words = ("the a customer support ticket refund order shipping delivery password account reset "
         "please thanks hello help issue billing invoice payment card subscription cancel update "
         "error login email address phone number week day month today tomorrow yesterday I you we "
         "they it is are was were can't won't don't I'm you're it's we'll they'd I've "
         "naïve café résumé über straße 日本語 テキスト 中文 文本 Ωmega ≈ √ émoji 😀 👍 🎉 ❤️").split()
lines = []
for _ in range(3000):
    n = rnd.randint(3, 14)
    s = " ".join(rnd.choice(words) for _ in range(n))
    if rnd.random() < 0.3:
        s = s.capitalize() + rnd.choice([".", "?", "!", ":", ","])
    if rnd.random() < 0.2:
        s += " " + str(rnd.randint(0, 99999))
    if rnd.random() < 0.1:
        s = "    def f(x):\n        return x * " + str(rnd.randint(1, 9)) + "\n" + s
    if rnd.random() < 0.1:
        s += "\n\n"
    lines.append(s)

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def smol():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=2, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(lines, trainer)
    tok.add_tokens([AddedToken("[TOOL]", single_word=False, lstrip=False, rstrip=False, normalized=False)])
    tok.add_special_tokens([AddedToken("<|pad|>", lstrip=True, rstrip=True)])
    return tok


def llama3():
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    trainer = trainers.BpeTrainer(vocab_size=700, min_frequency=2, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(lines, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
        special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))])
    return tok


def with_byte_tokens(tok):
    """Appends <0x00>…<0xFF> to the model vocabulary, as SentencePiece byte-fallback models have."""
    d = json.loads(tok.to_str())
    vocab = d["model"]["vocab"]
    n = max(vocab.values()) + 1
    for a in d["added_tokens"]:
        n = max(n, a["id"] + 1)
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = n + b
    return Tokenizer.from_str(json.dumps(d))


def llama2():
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    trainer = trainers.BpeTrainer(vocab_size=500, min_frequency=2, special_tokens=["<unk>", "<s>", "</s>"],
                                  limit_alphabet=80, show_progress=False)
    tok.train_from_iterator(lines, trainer)
    return with_byte_tokens(tok)


def metaspace():
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    trainer = trainers.BpeTrainer(vocab_size=500, min_frequency=2, special_tokens=["<unk>", "<s>", "</s>"],
                                  limit_alphabet=80, show_progress=False)
    tok.train_from_iterator(lines, trainer)
    return with_byte_tokens(tok)


tests = [
    "",
    "Hello world",
    "hello  world   with   runs of spaces",
    "   leading spaces",
    "trailing spaces   ",
    " ",
    "\n",
    "multiple\n\nnewlines\r\nand CRLF\n\n\n",
    "tabs\tand\t\ttabs",
    "numbers 12345 and 3.14159 and 1,000,000",
    "unicode: naïve café résumé, Ω≈ç√, 日本語テキスト, 中文文本",
    "emoji 😀👍🏽 family 👨‍👩‍👧 heart ❤️ flag 🇫🇷",
    "contractions: I'm you're it's we'll they'd I've DON'T IT'S",
    "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
    "special in the middle<|endoftext|>after",
    "<|start_header_id|>user<|end_header_id|>\n\nhey<|eot_id|>",
    "added [TOOL] token and [TOOL]glued",
    "pad strips   <|pad|>   around",
    "control \x00\x01\x7f bytes",
    "    def f(x):\n        return x * 2\n",
    "ℌ𝔢𝔩𝔩𝔬 𝕄𝕒𝕥𝕙 letters",
    "Arabic العربية and Hebrew עברית",
    "combining e\u0301 and precomposed é",
    "nbsp\u00a0here and line\u2028separator",
    "zero\u200bwidth",
    "  \n  \n",
    "Customer: my order #4521 hasn't arrived!!! Can you help??",
    "ALL CAPS SHOUTING and MiXeD CaSe",
    "a" * 40,
    "x=1;y=2;z=x+y  # comment",
    "<s>hello</s> world <unk>",
    "<0x41> is not a byte token in text",
]

# Random strings drawn from pools that stress the pre-tokenizer regexes: whitespace of every kind,
# apostrophes, digits, punctuation, letters of several scripts, emoji and combining marks.
pools = ["abcxyzABCXYZ", "0123456789", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2028", "\u3000", "'", "'s", "'LL",
         ".,;:!?-_()[]{}#*/\\\"", "日本語中文", "éüñçß", "Ωαβγ", "😀👍🏽❤️", "\u0301", "\u200d", "<|im_end|>", "[TOOL]",
         "<|eot_id|>", "\x00\x1f\x7f"]
for _ in range(200):
    tests.append("".join(rnd.choice(pools) for _ in range(rnd.randint(1, 12))))

expected = {"tokenizers_version": tokenizers.__version__, "tokenizers": {}}
for name, tok in [("smol", smol()), ("llama3", llama3()), ("llama2", llama2()), ("metaspace", metaspace())]:
    tok.save(f"{out}/{name}.json")
    tok = Tokenizer.from_file(f"{out}/{name}.json")  # test what was saved
    cases = []
    for s in tests:
        ids = tok.encode(s, add_special_tokens=False).ids
        cases.append({"text": s, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    expected["tokenizers"][name] = {"vocab_size": tok.get_vocab_size(with_added_tokens=True), "cases": cases}
# Conversations rendered as Hugging Face chat templates render them, tokenized whole (special tokens in
# the text recognised): package finetune's Encode must produce the same ids.
convs = [
    [("system", "Be brief."), ("user", "Where is my order?"), ("assistant", "It ships tomorrow.")],
    [("user", "Hi"), ("assistant", "Hello!"), ("user", "Refund?"), ("assistant", " Sure, done. \n")],
    [("user", "a\n\nb"), ("assistant", "\n  indented 😀\n")],
]


def render(template, conv):
    if template == "chatml":
        return "".join(f"<|im_start|>{r}\n{c}<|im_end|>\n" for r, c in conv)
    if template == "llama3":
        return "<|begin_of_text|>" + "".join(
            f"<|start_header_id|>{r}<|end_header_id|>\n\n{c.strip()}<|eot_id|>" for r, c in conv)
    if template == "zephyr":
        return "<s>" + "".join(f"<|{r}|>\n{c}</s>\n" for r, c in conv)


chats = []
for name, template in [("smol", "chatml"), ("llama3", "llama3"), ("llama2", "zephyr"), ("metaspace", "zephyr")]:
    tok = Tokenizer.from_file(f"{out}/{name}.json")
    for conv in convs:
        text = render(template, conv)
        chats.append({"tokenizer": name, "template": template, "messages": [{"role": r, "content": c} for r, c in conv],
                      "text": text, "ids": tok.encode(text, add_special_tokens=False).ids})

with open(f"{out}/expected.json", "w") as f:  # one case per line, so diffs stay readable
    f.write('{"tokenizers_version": %s, "tokenizers": {\n' % json.dumps(tokenizers.__version__))
    for i, (name, t) in enumerate(expected["tokenizers"].items()):
        f.write('%s: {"vocab_size": %d, "cases": [\n' % (json.dumps(name), t["vocab_size"]))
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in t["cases"]))
        f.write("\n]}%s\n" % ("," if i + 1 < len(expected["tokenizers"]) else ""))
    f.write('},\n"chats": [\n')
    f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in chats))
    f.write("\n]}\n")
