#!/usr/bin/env bash
# Logits of moe4j and llama.cpp on the same llama-quantize files, position by position, as in the README's table
# of GGML types. llama.cpp is not part of moe4j: build it yourself (CPU is enough) and pass its folder.
#
#   scripts/compare-llama-quants.sh LLAMA_CPP_DIR MODEL-F16.gguf OUT_DIR TYPE [TYPE ...]
#
# TYPE is a llama-quantize type (Q5_0, Q4_K_M, IQ4_XS, ...); TYPE-pure quantises every weight to TYPE (--pure).
# For each, OUT_DIR/NAME-TYPE.gguf is made with LLAMA_CPP_DIR/build/bin/llama-quantize (kept if present; so are
# llama.cpp's logits, OUT_DIR/TYPE.llama.f32, computed with the same IDS), both
# engines compute the logits of a fixed prompt of token ids, and a table row gives the relative error
# ||moe4j - llama.cpp|| / ||llama.cpp|| over all positions and the share of positions whose argmax agrees.
# llama.cpp's logits come from scripts/llama-logits.cpp, compiled here against LLAMA_CPP_DIR, with an f32 KV cache.
# Environment: IDS (comma-separated prompt ids; default 64 ids from a fixed LCG), THREADS (2), IMATRIX (a file
# passed to llama-quantize --imatrix, for the types that need one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLAMA="${1:?usage: $0 LLAMA_CPP_DIR MODEL-F16.gguf OUT_DIR TYPE...}"
F16="${2:?model}"; OUT="${3:?out dir}"; shift 3
THREADS="${THREADS:-2}"
BIN="$LLAMA/build/bin"
mkdir -p "$OUT"
[ -x "$OUT/llama-logits" ] || g++ -O2 -std=c++17 -I"$LLAMA/include" -I"$LLAMA/ggml/include" "$ROOT/scripts/llama-logits.cpp" \
    -o "$OUT/llama-logits" -L"$BIN" -lllama -lggml -lggml-base -Wl,-rpath,"$BIN"
if [ -z "${IDS:-}" ]; then   # 64 ids in [3, 32000): a 32-bit LCG from seed 1234
    x=1234; IDS=""
    for _ in $(seq 64); do x=$(( (x * 1664525 + 1013904223) % 4294967296 )); IDS="$IDS${IDS:+,}$(( 3 + x % 31997 ))"; done
fi
name=$(basename "$F16" .gguf); name=${name%-f16}
echo "| type | file | relative error | argmax agreement |"
echo "|---|---|---|---|"
for spec in "$@"; do
    t=${spec%-pure}; extra=()
    [ "$t" != "$spec" ] && extra+=(--pure)
    [ -n "${IMATRIX:-}" ] && extra+=(--imatrix "$IMATRIX")
    f="$OUT/$name-$spec.gguf"
    [ -f "$f" ] || "$BIN/llama-quantize" "${extra[@]}" "$F16" "$f" "$t" "$THREADS" > "$OUT/$spec.quantize.log" 2>&1 \
        || { echo "| $spec | llama-quantize failed (see $OUT/$spec.quantize.log) | | |"; continue; }
    [ -f "$OUT/$spec.llama.f32" ] || LLAMA_LOGITS_F32_KV=1 "$OUT/llama-logits" "$f" "$IDS" "$OUT/$spec.llama.f32" "$THREADS" \
        2> "$OUT/$spec.llama.log" || { echo "| $spec | llama.cpp failed (see $OUT/$spec.llama.log) | | |"; continue; }
    "$ROOT/moe4j" logits --model "$f" --ids "$IDS" --out "$OUT/$spec.moe4j.f32" --threads "$THREADS" 2> "$OUT/$spec.moe4j.log" \
        || { echo "| $spec | moe4j: $(tail -1 "$OUT/$spec.moe4j.log") | | |"; continue; }
    python3 - "$OUT/$spec.moe4j.f32" "$OUT/$spec.llama.f32" "$spec" "$(du -mL "$f" | cut -f1) MiB" "$(echo "$IDS" | tr ',' '\n' | wc -l)" <<'PY'
import sys
from array import array
def read(p):
    a = array('f'); a.frombytes(open(p, 'rb').read()); return a
m, l, spec, size, n = read(sys.argv[1]), read(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
assert len(m) == len(l) and len(m) % n == 0, "logit counts differ: %d vs %d" % (len(m), len(l))
v = len(m) // n
num = sum((a - b) ** 2 for a, b in zip(m, l)); den = sum(b * b for b in l)
agree = sum(1 for i in range(n)
            if max(range(v), key=lambda k: m[i * v + k]) == max(range(v), key=lambda k: l[i * v + k]))
print("| %s | %s | %.2e | %d/%d (%.0f %%) |" % (spec, size, (num / den) ** 0.5, agree, n, 100.0 * agree / n))
PY
done
