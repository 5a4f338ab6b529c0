#!/usr/bin/env bash
# Browser tests of the operator's console (docs/console.md): Debian's chromium, headless, driven by
# puppeteer-core (npm, pinned by tests/console/package-lock.json, installed into the build tree by
# npm ci; again only when the lock file changes; never vendored). The script sets the servers up:
#  - veritee serve on SQLite with the TDX simulator's collateral and anchors: a TD attests, one
#    key is released to it (its receipt kept) and another denied by policy; then the first key
#    gets a second version and the second is disabled;
#  - with the recorded fixtures: veritee cache serve filled from the upstream double in 2026, one
#    platform registered (PCCS style) and its PCK certificate served (a first upstream down), eval 17 enforced for TDX and
#    the TDX platform's TCB info requested (so the cache holds 17 and 18);
# then runs console.test.mjs, which saves its screenshots under BUILD_DIR/console-test/artifacts.
# Without chromium, node or npm (or the npm registry) the test is skipped with a message, and
# fails under CI=true; so does the fixtures part without fixtures.
# Usage: run.sh BUILD_DIR VERITEE
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR VERITEE}
veritee=${2:?usage: run.sh BUILD_DIR VERITEE}
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
dir="$build/console-test"

source "$support/npm_lib.sh" # npm_skip, npm_install
command -v node >/dev/null && command -v npm >/dev/null ||
    npm_skip "node and npm not found (scripts/install-deps.sh installs them)"
chromium=${VT_CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || npm_skip "chromium not found (scripts/install-deps.sh installs it)"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' ||
    npm_skip "node $(node --version) is older than puppeteer-core's minimum, 18"
npm_install "$here" "$dir" puppeteer-core
echo "puppeteer-core $(node -p "require('$dir/node_modules/puppeteer-core/package.json').version"), $("$chromium" --version 2>/dev/null | head -1), node $(node --version)"

tmp=$(mktemp -d)
source "$support/cache_lib.sh" # start_double, start_cache, wait_port, cleanup
trap cleanup EXIT

# ---- veritee serve with the TDX simulator: attestations, a release, a denial ----
db="sqlite:$tmp/v.db"
mk="$tmp/master.key"
b() { "$veritee" broker "$@" --db "$db" --master-key-file "$mk"; }
"$veritee" broker master-key >"$mk"
"$veritee" client sim-export --backend sim:tdx --sim-dir "$tmp/sim" --out "$tmp/sim-export" >/dev/null
admin=$(b token)
"$veritee" serve --db "$db" --master-key-file "$mk" --mode offline \
    --collateral "$tmp/sim-export/collateral" --trust-anchor "$tmp/sim-export/anchors/tdx.pem" \
    --listen 127.0.0.1:0 --port-file "$tmp/serve.port" 2>"$tmp/serve.log" &
pids+=($!)
url="http://127.0.0.1:$(wait_port "$tmp/serve.port")" || { cat "$tmp/serve.log"; exit 1; }
mrtd=$("$veritee" client attest --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["claims"]["tdx.mrtd"])')
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%s"}}' "$mrtd" >"$tmp/approved.json"
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%096d"}}' 0 >"$tmp/other.json"
b key-put --name app-key --generate 32 --policy "$tmp/approved.json" >/dev/null
b key-put --name other-app-key --generate 32 --policy "$tmp/other.json" >/dev/null
"$veritee" client release --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" --key app-key \
    >"$tmp/release.json"
"$veritee" client release --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" \
    --key other-app-key >"$tmp/denied.json" 2>/dev/null || true
grep -q '"reason":"release-policy:rules"' "$tmp/denied.json" ||
    { echo "FAIL: the setup's denied release was not denied"; cat "$tmp/denied.json"; exit 1; }
# a platform registered with veritee serve's cache (PCCS style): the Fleet view lists it under
# "PCK requests" next to the attested TD (offline and without its PCK certificate: no FMSPC)
ppid=$(printf 'ab%.0s' $(seq 1 384))
reg0="{\"qe_id\":\"0f0e0d0c0b0a09080706050403020100\",\"pce_id\":\"0000\",\"cpu_svn\":\"02020202030100050000000000000000\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"$ppid\"}"
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $admin" --data "$reg0" \
    "$url/sgx/certification/v4/platforms" ||
    { echo "FAIL: the setup's registration with veritee serve"; exit 1; }
# a second broker on the same SQLite file: the Health view lists it among the replicas
"$veritee" broker serve --db "$db" --master-key-file "$mk" --listen 127.0.0.1:0 \
    --port-file "$tmp/broker2.port" 2>"$tmp/broker2.log" &
pids+=($!)
wait_port "$tmp/broker2.port" >/dev/null || { cat "$tmp/broker2.log"; exit 1; }
# keys' versions and states: app-key rotated (version 2 current), other-app-key disabled
b key-put --name app-key --generate 32 --policy "$tmp/approved.json" >/dev/null
b key-disable --name other-app-key >/dev/null

# ---- the recorded fixtures: a cache that has seen one TDX platform, eval 17 in force ----
fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
cache_url=""
cache_admin=""
if [ -z "$fixtures" ] || [ ! -d "$fixtures/dcap" ]; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: fixtures not found (set VERITEE_FIXTURES); CI requires them"
        exit 1
    fi
    echo "SKIP (part): fixtures not found: no impact preview on recorded collateral"
else
    t_2026=1771600000 # the double's eval 18 collateral for FMSPC 90C06F000000
    start_double "$t_2026" >/dev/null
    cdb="sqlite:$tmp/cache.db"
    cache_admin=$("$veritee" cache token --db "$cdb" --role admin)
    # a first upstream that refuses connections (the health view shows it failing), the double
    # second; the refresher's next pass a day away (never during the test)
    start_cache "$tmp/cache.log" --db "$cdb" --upstream http://127.0.0.1:1 \
        --upstream "$DOUBLE_URL" --retries 0 --now "$t_2026" --refresh-interval 86400
    cache_url=$CACHE_URL
    reg="{\"qe_id\":\"00112233445566778899aabbccddeeff\",\"pce_id\":\"0000\",\"cpu_svn\":\"02020202030100050000000000000000\",\"pce_svn\":\"0d00\",\"enc_ppid\":\"$ppid\"}"
    curl -sf -o /dev/null -X POST -H "Authorization: Bearer $cache_admin" --data "$reg" \
        "$cache_url/sgx/certification/v4/platforms"
    curl -sf -o /dev/null "$cache_url/sgx/certification/v4/pckcert?qeid=00112233445566778899aabbccddeeff&cpusvn=02020202030100050000000000000000&pcesvn=0d00&pceid=0000"
    curl -sf -o /dev/null -X POST -H "Authorization: Bearer $cache_admin" \
        --data '{"tee":"tdx","tcb_eval":17}' "$cache_url/admin/v1/enforce"
    # a verifier's request for the platform's TCB info: the cache holds 17 (in force) and 18
    curl -sf -o /dev/null "$cache_url/tdx/certification/v4/tcb?fmspc=90C06F000000"
fi

rm -rf "$dir/artifacts"
mkdir -p "$dir/artifacts"
export NODE_PATH="$dir/node_modules"
VT_CHROMIUM=$chromium VT_URL=$url VT_ADMIN=$admin VT_RELEASE="$tmp/release.json" \
    VT_SECRETS="$mk" VT_CACHE_URL=$cache_url VT_CACHE_ADMIN=$cache_admin VT_DOUBLE_URL=${DOUBLE_URL:-} \
    VT_ARTIFACTS="$dir/artifacts" node "$here/console.test.mjs"
