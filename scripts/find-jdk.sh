# Sourced by ./moe4j and ./test: sets JAVA_HOME to a JDK >= 25 or exits with a one-line error.
moe4j_java_major() {
    "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

moe4j_find_jdk() {
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
        v=$(moe4j_java_major "$JAVA_HOME")
        if [ -n "$v" ] && [ "$v" -ge 25 ]; then return 0; fi
    fi
    for d in /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*3[0-9]*; do
        if [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ]; then
            v=$(moe4j_java_major "$d")
            if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_HOME="$d"; export JAVA_HOME; return 0; fi
        fi
    done
    echo "moe4j: needs a JDK 25 or newer: install one (e.g. Temurin 25 under /usr/lib/jvm) or set JAVA_HOME to it" >&2
    exit 2
}
moe4j_find_jdk
