#!/usr/bin/env python3
"""Renders conversations with a real chat template on Python jinja2, with the conventions of Hugging Face
transformers' apply_chat_template (trim_blocks, lstrip_blocks, loop controls, raise_exception, tojson as
json.dumps with ensure_ascii=False, strftime_now, bos_token/eos_token, add_generation_prompt, tools, documents,
extra variables, continue_final_message), and writes the expected prompts that moe4j-chat's tests compare with.

  scripts/chat-template-expected.py TEMPLATE CONVERSATIONS.json OUT.json [--bos TEXT] [--eos TEXT] [--date YYYY-MM-DD]

TEMPLATE is a .jinja file or a tokenizer_config.json (its chat_template). Only the rendered strings (and the
template's sha256, so a test can tell it has the same template) are written; the template itself is not.
"""
import argparse, datetime, hashlib, json, sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment


def load_template(path):
    text = open(path, encoding="utf-8").read()
    if path.endswith(".json"):
        t = json.loads(text)["chat_template"]
        if isinstance(t, list):
            t = {e["name"]: e["template"] for e in t}["default"]
        return t
    return text


def environment(today):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return today.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(template, case, bos, eos):
    cont = case.get("continue_final_message", False)
    variables = dict(case.get("variables", {}))
    variables.update(messages=case["messages"], tools=case.get("tools"), documents=case.get("documents"),
                     add_generation_prompt=case.get("add_generation_prompt", not cont), bos_token=bos, eos_token=eos)
    text = template.render(**variables)
    if cont:  # as transformers: cut the render after the final message's (stripped) content
        final = case["messages"][-1]["content"].strip()
        text = text[: text.rindex(final) + len(final)]
    return text


def main():
    p = argparse.ArgumentParser()
    p.add_argument("template"); p.add_argument("conversations"); p.add_argument("out")
    p.add_argument("--bos", default=""); p.add_argument("--eos", default="")
    p.add_argument("--date", default="2026-11-29")
    a = p.parse_args()
    source = load_template(a.template)
    template = environment(datetime.datetime.strptime(a.date, "%Y-%m-%d")).from_string(source)
    out = {"template_sha256": hashlib.sha256(source.encode("utf-8")).hexdigest(), "bos_token": a.bos,
           "eos_token": a.eos, "date": a.date, "jinja2": jinja2.__version__, "renders": {}}
    for case in json.load(open(a.conversations, encoding="utf-8")):
        try:
            out["renders"][case["name"]] = {"text": render(template, case, a.bos, a.eos)}
        except Exception as e:  # the template refused the conversation: moe4j must refuse it too
            out["renders"][case["name"]] = {"error": str(e)}
    json.dump(out, open(a.out, "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    sys.stdout.write(f"{len(out['renders'])} renders -> {a.out}\n")


if __name__ == "__main__":
    main()
