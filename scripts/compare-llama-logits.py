#!/usr/bin/env python3
"""Compares moe4j's logits with llama.cpp's on a GGUF file, over the prompts of a reference checkpoint.

usage: scripts/compare-llama-logits.py DUMP_LOGITS MODEL.gguf REF_DIR [--f32-kv]

DUMP_LOGITS is a user-built llama.cpp program that takes `MODEL ID,ID,... OUT.f32 [threads]` and writes
float32 logits [n_tokens, n_vocab] (see the README); REF_DIR is a reference folder whose reference.json
holds the prompts' token ids. For each prompt prints the relative difference ||moe4j - llama|| / ||llama||
over all positions and how many positions have the same argmax; then the worst and the totals.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

dump, model, ref = sys.argv[1:4]
env = dict(os.environ)
if "--f32-kv" in sys.argv:
    env["F32_KV"] = "1"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
prompts = [p["ids"] for p in json.load(open(os.path.join(ref, "reference.json")))["prompts"]]
worst, agree, total = 0.0, 0, 0
with tempfile.TemporaryDirectory() as tmp:
    for i, ids in enumerate(prompts):
        text = ",".join(str(t) for t in ids)
        theirs_f, ours_f = os.path.join(tmp, "llama.f32"), os.path.join(tmp, "moe4j.f32")
        subprocess.run([dump, model, text, theirs_f, "2"], check=True, env=env, stderr=subprocess.DEVNULL)
        subprocess.run([os.path.join(root, "moe4j"), "logits", "--model", model, "--ids", text, "--out", ours_f], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        theirs = np.fromfile(theirs_f, dtype=np.float32).reshape(len(ids), -1)
        ours = np.fromfile(ours_f, dtype=np.float32).reshape(len(ids), -1)
        rel = float(np.linalg.norm(ours - theirs) / np.linalg.norm(theirs))
        same = int((ours.argmax(-1) == theirs.argmax(-1)).sum())
        print(f"prompt {i}: {len(ids)} tokens, relative difference {rel:.2e}, argmax {same}/{len(ids)}")
        worst, agree, total = max(worst, rel), agree + same, total + len(ids)
print(f"{os.path.basename(model)}: worst relative difference {worst:.2e}, argmax agrees at {agree}/{total} ({100 * agree / total:.0f} %)")
