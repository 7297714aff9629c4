#!/usr/bin/env bash
# Side-by-side speed of moe4j and llama.cpp on the same GGUF files, one run after the other, as in the
# README's performance table. llama.cpp is not part of moe4j: build it yourself and pass its llama-bench.
#
#   scripts/compare-llama.sh /path/to/llama-bench FILE.gguf [FILE.gguf ...]
#
# Environment: THREADS (default 2), P (prompt tokens, 128), N (generated tokens, 32), R (repetitions, 3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLAMA_BENCH="${1:?usage: $0 LLAMA_BENCH FILE.gguf...}"
shift
THREADS="${THREADS:-2}" P="${P:-128}" N="${N:-32}" R="${R:-3}"

# "| ... | pp128 | 123.45 ± 6.78 |" -> "123.45 ± 6.78" for the row whose test is $2
pick() { grep -E "\| *$2 *\|" <<<"$1" | awk -F'|' '{gsub(/^ +| +$/, "", $(NF-1)); print $(NF-1)}' | head -1; }

echo "| file | moe4j pp$P | llama.cpp pp$P | moe4j tg$N | llama.cpp tg$N |"
echo "|---|---|---|---|---|"
for f in "$@"; do
    m=$("$ROOT/moe4j" bench --model "$f" -p "$P" -n "$N" -r "$R" --threads "$THREADS" 2>/dev/null)
    l=$("$LLAMA_BENCH" -m "$f" -p "$P" -n "$N" -r "$R" -t "$THREADS" 2>/dev/null)
    echo "| $(basename "$f") | $(pick "$m" "pp$P") | $(pick "$l" "pp$P") | $(pick "$m" "tg$N") | $(pick "$l" "tg$N") |"
done
