#!/usr/bin/env bash
# moe4j's logits against llama.cpp's on the same GGUF file and token ids, as README's llama.cpp figures were taken.
# llama.cpp is not part of moe4j: pass a program built against your llama.cpp that is called as
#   DUMP_LOGITS MODEL.gguf ID,ID,... OUT.f32 [threads]
# and writes llama.cpp's logits of every position as float32 [n_ids, n_vocab] (llama_decode with logits for every
# token; F32_KV=1 in the environment may ask it for an f32 KV cache). scripts/llama-logits.cpp is such a program
# (scripts/compare-llama-quants.sh compiles it against a llama.cpp folder; it takes LLAMA_LOGITS_F32_KV=1).
#
#   scripts/compare-llama-logits.sh DUMP_LOGITS FILE.gguf ID,ID,... [FILE.gguf ...]
#
# Prints, per file: relative error ‖moe4j − llama.cpp‖ / ‖llama.cpp‖ over all positions, the largest per-position
# relative error, and at how many positions the argmax agrees.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DUMP="${1:?usage: $0 DUMP_LOGITS FILE.gguf ID,ID,... [FILE.gguf ...]}"
IDS="${3:?usage: $0 DUMP_LOGITS FILE.gguf ID,ID,... [FILE.gguf ...]}"
FILES=("$2" "${@:4}")
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
for f in "${FILES[@]}"; do
    "$ROOT/moe4j" logits --model "$f" --ids "$IDS" --out "$TMP/moe4j.f32" --threads 2 >/dev/null
    "$DUMP" "$f" "$IDS" "$TMP/llama.f32" 2 >/dev/null 2>&1
    python3 - "$TMP/moe4j.f32" "$TMP/llama.f32" "$IDS" "$(basename "$f")" <<'PY'
import sys, numpy as np
n = len(sys.argv[3].split(","))
a = np.fromfile(sys.argv[1], dtype="<f4").astype(np.float64).reshape(n, -1)
b = np.fromfile(sys.argv[2], dtype="<f4").astype(np.float64).reshape(n, -1)
rel = np.linalg.norm(a - b) / np.linalg.norm(b)
per = max(np.linalg.norm(a[t] - b[t]) / np.linalg.norm(b[t]) for t in range(n))
agree = int((a.argmax(1) == b.argmax(1)).sum())
print(f"{sys.argv[4]}: relative error {rel:.2e} (worst position {per:.2e}), argmax agrees at {agree}/{n} positions")
PY
done
