#!/usr/bin/env bash
# Runs COMMAND (a JVM, for ./moe4j) with its stderr passed through a filter that drops the JVM's
# "WARNING: Using incubator modules" notice and nothing else:
#   scripts/drop-incubator-notice.sh COMMAND [ARGS...]
# - Unbuffered: once the notice has gone by, stderr passes through byte by byte (`cat`), so progress bars
#   drawn with \r show as they are drawn. Lines before it (the JVM's own warnings) pass whole.
# - Every byte of stderr is out before this script exits, and it exits with COMMAND's status.
# - Ctrl-C reaches COMMAND (its whole process group gets SIGINT, as from a terminal); SIGINT, SIGTERM and
#   SIGHUP sent to this script alone are passed on to it. The filter ignores them and ends when COMMAND's
#   stderr closes, so what COMMAND prints while it stops (shutdown hooks) still gets through.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

drop_notice() {
    trap '' INT TERM HUP
    local line
    while IFS= read -r line; do
        case "$line" in
            'WARNING: Using incubator modules:'*) exec cat ;;
            'WARNING: '* | *'VM warning: '*) printf '%s\n' "$line" ;;   # the JVM's start-up warnings come first
            *) printf '%s\n' "$line"; exec cat ;;                        # no notice (another JDK): stop looking
        esac
    done
    printf '%s' "$line"   # a last line without a newline
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/moe4j-stderr.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/stderr" || exit 1

# Signals to this script go to the child; one that comes before the child has started is sent once it has.
child="" pending=""
forward() { if [ -n "$child" ]; then kill -s "$1" "$child" 2>/dev/null; else pending=$1; fi; }
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward HUP' HUP

drop_notice <"$dir/stderr" >&2 &
filter=$!
# A background job of a script starts with SIGINT ignored (and the JVM then keeps it ignored): undo that, and
# keep the terminal as its stdin (a background job's would be /dev/null).
( trap - INT QUIT; exec "$@" ) <&0 2>"$dir/stderr" &
child=$!
[ -z "$pending" ] || forward "$pending"

# `wait` returns early (status > 128) when a trapped signal arrives: wait again until the child is gone;
# bash keeps its status, so the last `wait` gives it.
while kill -0 "$child" 2>/dev/null; do wait "$child"; done
wait "$child"
status=$?
wait "$filter"
exit "$status"
