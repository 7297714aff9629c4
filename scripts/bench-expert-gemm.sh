#!/usr/bin/env bash
# JMH benchmark of the training engine's expert GEMMs, next to numpy's matmul on the same shapes and machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/find-jdk.sh"
cd "$ROOT"
mvn -q -B -DskipTests install >/dev/null
mvn -q -B -pl moe4j-train test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test >/dev/null
CP="moe4j-train/target/test-classes:moe4j-train/target/classes:$(cat moe4j-train/target/cp.txt)"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$CP" org.openjdk.jmh.Main ExpertGemmBench "$@"
echo
echo "GFLOP/s = 2*rows*in*out / (us/op * 1000)"
python3 "$ROOT/scripts/bench_numpy_matmul.py"
