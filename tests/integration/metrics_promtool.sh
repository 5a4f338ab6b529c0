#!/usr/bin/env bash
# Every listener's /metrics passes `promtool check metrics` (Prometheus's own parser and linter:
# HELP and TYPE for every metric, counters ending in _total, histograms whole), after traffic that
# makes the labelled series and the histograms appear: `veritee cache serve`, `veritee broker
# serve` and `veritee serve` (the cache's, the broker's and the server's metrics on one /metrics).
# The broker's traffic: simulated TDX evidence (veritee client) attested, released under an
# approving and a refusing policy, evidence that does not parse, a challenge and a KBS session;
# its metrics must then show the attestations and releases by TEE and outcome, the latency
# histograms, the table sizes and the log. Usage: metrics_promtool.sh VERITEE
set -uo pipefail
veritee=${1:?usage: metrics_promtool.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT

promtool=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
if [ ! -x "$promtool" ]; then
    if [ "${CI:-}" = true ]; then
        bad "promtool not found (scripts/install-deps.sh installs Debian's prometheus)"
    else
        echo "SKIP: promtool not found (scripts/install-deps.sh installs Debian's prometheus)"
    fi
    finish
    exit
fi

start() { # start NAME ARGS...: a listener; sets URL
    local name=$1 pf="$tmp/$1.port"
    shift
    "$veritee" "$@" --listen 127.0.0.1:0 --port-file "$pf" 2>>"$tmp/$name.log" &
    pids+=($!)
    URL="http://127.0.0.1:$(wait_port "$pf")" || {
        cat "$tmp/$name.log"
        return 1
    }
}

promcheck() { # promcheck NAME: /metrics of $URL through promtool
    curl -s "$URL/metrics" >"$tmp/$1.metrics"
    if "$promtool" check metrics <"$tmp/$1.metrics" >"$tmp/$1.promtool" 2>&1; then
        ok
    else
        bad "$1: promtool check metrics"
        cat "$tmp/$1.promtool"
    fi
    # and our own reading: every sample's family has a HELP and a TYPE line
    check "$1: HELP and TYPE for every metric" python3 - "$tmp/$1.metrics" <<'PY'
import re, sys
helps, types, missing = set(), {}, []
for line in open(sys.argv[1]):
    if line.startswith("# HELP "):
        helps.add(line.split()[2])
    elif line.startswith("# TYPE "):
        types[line.split()[2]] = line.split()[3]
    elif line.strip():
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
                fam = base
        if fam not in helps or fam not in types:
            missing.append(name)
if missing:
    print("no HELP/TYPE:", sorted(set(missing)))
    sys.exit(1)
PY
}

has() { # has NAME REGEX: a line of NAME's metrics matches
    grep -Eq "$2" "$tmp/$1.metrics" || {
        bad "$1: no line matches $2"
        return 1
    }
    ok
}

# ---- veritee cache serve: documents found, not found, refused ----
start cache cache serve --db "sqlite:$tmp/cache.db" --mode offline --refresh-interval 0 ||
    { bad "cache serve"; finish; exit; }
for p in "/vcek/v1/Milan/crl" "/vcek/v1/Turin/0123456789abcdef?fmcSPL=1" \
    "/vcek/v1/Turin/$(printf '%0128d' 0)" "/sgx/certification/v4/tcb?fmspc=00906ED50000" \
    "/sgx/certification/v4/tcb?fmspc=zz" "/healthz"; do
    curl -s -o /dev/null "$URL$p"
done
promcheck cache
has cache '^veritee_cache_requests_total\{endpoint="vcek"\} 1$'
has cache '^# TYPE veritee_cache_refresh_failures_total counter$'
has cache '^veritee_http_requests_total [1-9]'

# ---- veritee broker serve, with simulated TDX evidence ----
mk="$tmp/master.key"
"$veritee" broker master-key >"$mk"
"$veritee" client sim-export --backend sim:tdx --sim-dir "$tmp/sim" --out "$tmp/export" >/dev/null
echo '{"version":1,"rules":{"claim":"tdx.mrtd","exists":true}}' >"$tmp/ok.json"
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%096d"}}' 0 >"$tmp/no.json"
traffic() { # traffic DB: attest, release (allowed and refused), bad evidence, challenge, KBS auth
    local k
    for k in ok no; do
        "$veritee" broker key-put --db "$1" --master-key-file "$mk" --name "$k" --generate 16 \
            --policy "$tmp/$k.json" >/dev/null
    done
    local c=(--url "$URL" --backend sim:tdx --sim-dir "$tmp/sim")
    check "attest" bash -c '"$@" >/dev/null' _ "$veritee" client attest "${c[@]}"
    check "release under an approving policy" bash -c '"$@" >/dev/null' _ \
        "$veritee" client release "${c[@]}" --key ok
    check "release under a refusing policy is refused" bash -c '! "$@" >/dev/null 2>&1' _ \
        "$veritee" client release "${c[@]}" --key no
    curl -s -o /dev/null -X POST "$URL/v1/attest" --data \
        '{"evidence":"AAAA","nonce":"x","runtime_key":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}'
    curl -s -o /dev/null -X POST "$URL/v1/challenge"
    curl -s -o /dev/null -X POST "$URL/kbs/v0/auth" -H 'Content-Type: application/json' \
        --data '{"version":"0.4.0","tee":"tdx","extra-params":""}'
}
broker_has() { # broker_has NAME: the broker's series after traffic()
    has "$1" '^veritee_broker_attestations_total\{tee="tdx",decision="allow",reason="none"\} 3$'
    has "$1" '^veritee_broker_attestations_total\{tee="none",decision="deny",reason="evidence"\} 1$'
    has "$1" '^veritee_broker_releases_total\{tee="tdx",decision="allow",reason="none"\} 1$'
    has "$1" '^veritee_broker_releases_total\{tee="tdx",decision="deny",reason="policy"\} 1$'
    has "$1" '^# TYPE veritee_broker_attest_duration_seconds histogram$'
    has "$1" '^veritee_broker_attest_duration_seconds_bucket\{tee="tdx",le="\+Inf"\} 3$'
    has "$1" '^veritee_broker_attest_duration_seconds_count\{tee="tdx"\} 3$'
    has "$1" '^veritee_broker_release_duration_seconds_bucket\{tee="tdx",le="0.001"\} [0-2]$'
    has "$1" '^veritee_broker_release_duration_seconds_count\{tee="tdx"\} 2$'
    has "$1" '^veritee_broker_table_rows\{table="nonces"\} 3$' # the three redeemed, not the challenge
    has "$1" '^veritee_broker_table_rows\{table="kbs_sessions"\} 1$'
    has "$1" '^veritee_broker_log_size 5$'
    has "$1" '^veritee_broker_log_checkpoint_size 5$'
    has "$1" '^veritee_broker_log_checkpoint_age_seconds [0-9]+$'
    has "$1" '^veritee_http_requests_total [1-9]'
}
start broker broker serve --db "sqlite:$tmp/broker.db" --master-key-file "$mk" \
    --collateral "$tmp/export/collateral" --trust-anchor "$tmp/export/anchors/tdx.pem" ||
    { bad "broker serve"; finish; exit; }
curl -s "$URL/metrics" >"$tmp/broker0.metrics"
check "broker: before any traffic, no checkpoint: the age is NaN" \
    grep -q '^veritee_broker_log_checkpoint_age_seconds NaN$' "$tmp/broker0.metrics"
check "broker: promtool on the metrics before traffic" "$promtool" check metrics <"$tmp/broker0.metrics"
traffic "sqlite:$tmp/broker.db"
promcheck broker
broker_has broker

# ---- veritee serve: the cache's, the broker's and the server's metrics on one /metrics ----
start serve serve --db "sqlite:$tmp/serve.db" --master-key-file "$mk" --mode offline \
    --refresh-interval 0 --collateral "$tmp/export/collateral" \
    --trust-anchor "$tmp/export/anchors/tdx.pem" || { bad "serve"; finish; exit; }
traffic "sqlite:$tmp/serve.db"
curl -s -o /dev/null "$URL/vcek/v1/Genoa/cert_chain"
promcheck serve
broker_has serve
has serve '^veritee_cache_requests_total\{endpoint="amd_cert_chain"\} 1$'
finish
