# Helpers for the collateral-cache integration tests (sourced). Every server listens on
# 127.0.0.1 on a free port (written to a port file) and is stopped by cleanup.
# Needs: $veritee, $tmp, $fixtures set by the caller.

pids=()
fails=0
passes=0

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if declare -F pg_stop >/dev/null; then
        pg_stop
    fi
    rm -rf "$tmp"
}

ok() { passes=$((passes + 1)); }
bad() {
    echo "FAIL $*"
    fails=$((fails + 1))
}
check() { # check NAME COMMAND...: passes if the command succeeds
    local name=$1
    shift
    if "$@"; then ok; else bad "$name"; fi
}

wait_port() { # wait_port FILE: echo the port once the file exists
    local i
    for i in $(seq 1 100); do
        if [ -s "$1" ]; then
            cat "$1"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# start_double NOW: the upstream test double serving the recorded vendor responses.
start_double() {
    local pf="$tmp/double.$RANDOM.port"
    python3 "$support/upstream_double.py" --fixtures "$fixtures" --port-file "$pf" \
        --now "$1" 2>>"$tmp/double.log" &
    pids+=($!)
    DOUBLE_PID=$!
    DOUBLE_URL="http://127.0.0.1:$(wait_port "$pf")" || return 1
}

# start_cache LOG ARGS...: a cache process; sets CACHE_URL and CACHE_PID.
start_cache() {
    local log=$1
    shift
    local pf="$tmp/cache.$RANDOM.port"
    "$veritee" cache serve --listen 127.0.0.1:0 --port-file "$pf" "$@" 2>>"$log" &
    pids+=($!)
    CACHE_PID=$!
    CACHE_URL="http://127.0.0.1:$(wait_port "$pf")" || { cat "$log"; return 1; }
}

stop_pid() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

control() { # control JSON: configure the double
    curl -s -o /dev/null -X POST --data "$1" "$DOUBLE_URL/_control"
}

json_field() { # json_field FILE KEY: a top-level scalar of a small JSON file
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v)' "$1" "$2"
}

finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" -eq 0 ]
}
