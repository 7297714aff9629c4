"""Loads an exported Hugging Face folder with transformers and compares its logits and tokens with moe4j's.

usage: python3 scripts/check_hf_export.py DIR [TEXT]    (needs torch and transformers)
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

d = sys.argv[1]
text = sys.argv[2] if len(sys.argv) > 2 else "12+7=19;\ndef add(x, y):"
moe4j = str(Path(__file__).resolve().parent.parent / "moe4j")
model = AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.float32).eval()
ids = AutoTokenizer.from_pretrained(d)(text)["input_ids"]
ours_ids = subprocess.run([moe4j, "tokenize", "--model", d, "--text", text, "--no-special"], check=True,
                          capture_output=True, text=True).stdout.strip()
with torch.no_grad():
    hf = model(torch.tensor([ids])).logits[0].numpy()
subprocess.run([moe4j, "logits", "--model", d, "--ids", ",".join(map(str, ids)), "--out", "/tmp/moe4j-check.f32"],
               check=True, capture_output=True)
ours = np.fromfile("/tmp/moe4j-check.f32", dtype="<f4").reshape(len(ids), -1)
print(f"{type(model).__name__}: tokens equal: {ours_ids.replace(' ', '') == str(ids).replace(' ', '')}, "
      f"max |logit difference| over {len(ids)} tokens: {np.abs(hf - ours).max():.2e}")
