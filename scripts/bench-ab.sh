#!/usr/bin/env bash
# Side-by-side speed of two or more builds of moe4j on one model, alternating so that the machine's drift hits
# each build alike (this 2-core VM varies 10-25 % from run to run): ROUNDS rounds, in each one `bench` run per jar.
#   scripts/bench-ab.sh MODEL.gguf ROUNDS old.jar new.jar [more.jar ...]     (PP=128 TG=32 by default)
# Prints one line per run: jar, prompt tokens/s, generated tokens/s (medians of bench's -r 3); take medians over rounds.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,6p' "$0" >&2; exit 2; }
MODEL=$1 ROUNDS=$2; shift 2
. "$(dirname "${BASH_SOURCE[0]}")/find-jdk.sh"
for _ in $(seq "$ROUNDS"); do
    for JAR in "$@"; do
        "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
            -jar "$JAR" bench --model "$MODEL" -p "${PP:-128}" -n "${TG:-32}" -r 3 --threads 2 --json 2>/dev/null |
            python3 -c 'import json,sys; d=json.load(sys.stdin); print(sys.argv[1], d["pp"]["tokens_per_s"]["median"], d["tg"]["tokens_per_s"]["median"])' "$(basename "$JAR")"
    done
done
