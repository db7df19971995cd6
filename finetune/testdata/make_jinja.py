#!/usr/bin/env python3
"""Regenerates jinja_expected.json: chat templates of common model families rendered by Python's Jinja2
exactly as transformers' apply_chat_template renders them (ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks, raise_exception), for package finetune's TemplateJinja tests (which do not run this).

    ~/.cache/yardstick/gguf-venv/bin/pip install jinja2==3.1.6
    ~/.cache/yardstick/gguf-venv/bin/python finetune/testdata/make_jinja.py finetune/testdata
"""
import json
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

out = sys.argv[1] if len(sys.argv) > 1 else "."

TEMPLATES = {
    # Mistral-7B-Instruct v0.1/v0.2
    "mistral": "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
    # Llama-2-chat
    "llama2": "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
    # Gemma (system folded into the first user turn is not done by Gemma's own template: it refuses)
    "gemma": "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
    # Phi-3 style, written with block tags on their own lines (trim_blocks/lstrip_blocks matter)
    "phi3": "{% for message in messages %}\n    {% if message['role'] == 'system' %}\n{{'<|system|>\n' + message['content'] + '<|end|>\n'}}\n    {% elif message['role'] == 'user' %}\n{{'<|user|>\n' + message['content'] + '<|end|>\n'}}\n    {% elif message['role'] == 'assistant' %}\n{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}\n    {% endif %}\n{% endfor %}\n{% if add_generation_prompt %}\n{{ '<|assistant|>\n' }}\n{% else %}\n{{ eos_token }}\n{% endif %}",
    # A ChatML variant with a namespace, a filter chain and a default system message
    "chatml-ns": "{% set ns = namespace(sys=false) %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.sys = true %}{% endif %}{% endfor %}{% if not ns.sys %}<|im_start|>system\nYou are helpful.<|im_end|>\n{% endif %}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content | trim }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
}

CONVS = [
    [{"role": "user", "content": "Where is my order?"}, {"role": "assistant", "content": "It ships tomorrow."}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": " Hi there "},
     {"role": "assistant", "content": "Hello! "}, {"role": "user", "content": "Refund?"},
     {"role": "assistant", "content": "Sure, done."}],
    [{"role": "user", "content": "안녕하세요 😀\n\nline two"}],
]


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.globals["raise_exception"] = raise_exception
cases = []
for name, src in TEMPLATES.items():
    tpl = env.from_string(src)
    for conv in CONVS:
        for gen in (False, True):
            c = {"template": name, "messages": conv, "add_generation_prompt": gen}
            try:
                c["text"] = tpl.render(messages=conv, add_generation_prompt=gen, bos_token="<s>", eos_token="</s>")
            except jinja2.exceptions.TemplateError as e:
                c["error"] = str(e)
            cases.append(c)
with open(f"{out}/jinja_expected.json", "w") as f:
    json.dump({"jinja2": jinja2.__version__, "templates": TEMPLATES, "cases": cases}, f, indent=1, ensure_ascii=False)
