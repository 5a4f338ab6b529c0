#!/usr/bin/env bash
# Make the database of the upgrade test (tests/integration/db_upgrade.sh) with one veritee
# release, and record what that release answered, so that every later release can be checked to
# open it and answer the same. Run it with the release's own binary, once per schema version:
#
#   git worktree add /tmp/rel v0.1.0 && cmake -S /tmp/rel -B /tmp/rel/build && \
#       cmake --build /tmp/rel/build --target veritee
#   VT_RELEASE_COMMIT=$(git rev-parse v0.1.0) \
#       tests/support/gen_db_upgrade.sh /tmp/rel/build/veritee tests/data/db-v1
#
# What it does (all synthetic: a fixed master key, the simulators' TEEs, fixed secrets):
#  1. the simulator PKIs (sim:sgx, sim:tdx, sim:snp, sim:nitro) in OUT/sim, kept so that the test
#     attests with the same keys;
#  2. `veritee cache serve` filled from the upstream double serving the simulators' collateral
#     (Intel-like TDX documents and a PCK certificate, an AMD-like VCEK and chain): a
#     PCKIDRetrievalTool registration, an appraisal policy, an enforcement schedule, admin and
#     user tokens, and the bytes the cache serves for a list of requests (OUT/expected.json
#     "cache");
#  3. `veritee serve` with the simulators' collateral: an attestation policy, keys for each TEE
#     (fixed secrets, a second version, a generated one, a disabled one, one for two TEEs) under
#     release policies on the simulators' measurements, releases (token and direct, JWE and CMS)
#     before and after a signing-key rotation, a refused one; the receipts (OUT/receipts), the
#     JWKS (OUT/jwks.json), the secrets' SHA-256 (OUT/expected.json "keys");
#  4. the database as SQL: OUT/sqlite.sql (sqlite3 .dump) and OUT/postgres.sql (the same rows for
#     PostgreSQL, tests/support/sqlite_to_pg.py), checked on a PostgreSQL server: its schema must
#     be the one this release creates there, and this release must read it (audit verify, keys).
#
# Needs sqlite3, python3, openssl, curl and the PostgreSQL server binaries (no fixtures: nothing
# recorded from a vendor goes into the data). Usage: gen_db_upgrade.sh VERITEE OUT_DIR
set -euo pipefail
veritee=$(realpath "${1:?usage: gen_db_upgrade.sh VERITEE OUT_DIR}")
out=${2:?usage: gen_db_upgrade.sh VERITEE OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
support=$here
tmp=$(mktemp -d)
chmod 755 "$tmp"
source "$support/cache_lib.sh"
source "$support/pg.sh"
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
die() {
    echo "gen_db_upgrade: $*" >&2
    exit 1
}

rm -rf "$out"
mkdir -p "$out/receipts"
out=$(realpath "$out")
dbfile="$tmp/veritee.db"
db="sqlite:$dbfile"
# A synthetic master key: SHA-256 of a fixed phrase. It protects nothing but this test data.
mk="$out/master.key"
printf 'veritee upgrade test master key' | sha256sum | cut -d' ' -f1 >"$mk"
admin_token=vt-upgrade-admin-token-0001
user_token=vt-upgrade-user-token-0001
"$veritee" version >"$tmp/version"

# ---- 1. the simulators ----
for t in sgx tdx snp nitro; do
    "$veritee" client sim-export --backend "sim:$t" --sim-dir "$out/sim" --out "$tmp/export" ||
        die "sim-export $t"
done
cp "$tmp/export/collateral/snp/cert_chain.pem" "$tmp/export/collateral/" # the broker's SNP chain
anchors=()
for t in sgx tdx sev-snp nitro; do
    anchors+=(--trust-anchor "$tmp/export/anchors/$t.pem")
done

# ---- 2. the cache, with the simulators' collateral, at the time it was signed ----
# The upstream double, pointed at a tree in the fixtures' layout made of the simulators' PKI and
# collateral (nothing recorded from Intel or AMD goes into this data): the TDX collateral, a
# "quote" holding the PCK chain (all the double reads of a quote), and the SEV-SNP VCEK and chain.
syn="$tmp/synthetic"
sd="$syn/dcap/sim/tdx"
mkdir -p "$sd" "$syn/dcap/automata-dcap-attestation/sgx-v3-fmspc00606a000000" \
    "$syn/snp/virtee-sev" "$syn/snp/amd-roots"
for f in tcb_info.json tcb_info_issuer_chain.pem qe_identity.json qe_identity_issuer_chain.pem \
    pck_crl.der pck_crl_issuer_chain.pem root_ca_crl.der; do
    cp "$tmp/export/collateral/tdx/$f" "$sd/$f"
done
cat "$out/sim/tdx/cert-2.pem" "$out/sim/tdx/cert-1.pem" "$out/sim/tdx/cert-0.pem" >"$sd/quote.bin"
cp "$sd/tcb_info_issuer_chain.pem" "$syn/dcap/automata-dcap-attestation/sgx-v3-fmspc00606a000000/"
openssl x509 -in "$out/sim/snp/vcek.pem" -outform der -out "$syn/snp/virtee-sev/vcek_milan.der"
cp "$tmp/export/collateral/snp/cert_chain.pem" "$syn/snp/amd-roots/ask_ark_milan.pem"
fixtures=$syn # what start_double serves
# The simulators sign their collateral a day before the export: serve at the export's time.
t_cache=$(date +%s)
read -r sim_tcbm sim_fmspc sim_pceid < <(python3 "$support/pccs_upload.py" "$sd" --qe-id 00 \
    --enc-ppid 00 2>&1 >/dev/null)
cpusvn=${sim_tcbm:0:32}
pcesvn=${sim_tcbm:32:4}
qeid=00112233445566778899AABBCCDDEEFF
eppid=$(printf 'AB%.0s' $(seq 1 384))
zeros=$(printf '0%.0s' $(seq 1 768))
printf '%s\n' "$admin_token" >"$tmp/admin_token"
printf '%s\n' "$user_token" >"$tmp/user_token"
"$veritee" cache token --db "$db" --master-key-file "$mk" --role admin --name upgrade-admin \
    --value-file "$tmp/admin_token" >/dev/null || die "admin token"
"$veritee" cache token --db "$db" --master-key-file "$mk" --role user --name upgrade-user \
    --value-file "$tmp/user_token" >/dev/null || die "user token"
broker_token=$("$veritee" broker token --db "$db" --master-key-file "$mk" --name upgrade-broker) ||
    die "broker token"
"$veritee" cache enforce --db "$db" --master-key-file "$mk" --tee tdx --tcb-eval 17 \
    --from 2025-06-01T00:00:00Z >/dev/null || die "enforce 17"
"$veritee" cache enforce --db "$db" --master-key-file "$mk" --tee tdx --tcb-eval 18 \
    --from 2030-01-01T00:00:00Z >/dev/null || die "enforce 18"

start_double "$t_cache" || die "upstream double"
pf="$tmp/serve1.port"
"$veritee" cache serve --db "$db" --master-key-file "$mk" --upstream "$DOUBLE_URL" --now "$t_cache" \
    --trust-anchor "$tmp/export/anchors/tdx.pem" --amd-anchor "$tmp/export/anchors/sev-snp.pem" \
    --refresh-interval 0 --listen 127.0.0.1:0 --port-file "$pf" 2>"$tmp/serve1.log" &
pids+=($!)
serve_pid=$!
url="http://127.0.0.1:$(wait_port "$pf")" || die "serve (cache phase)"
U="$url/sgx/certification/v4"
body="{\"enc_ppid\": \"$eppid\" ,\"pce_id\": \"$sim_pceid\" ,\"cpu_svn\": \"$cpusvn\" ,\"pce_svn\": \"$pcesvn\" ,\"qe_id\": \"$qeid\" ,\"platform_manifest\": \"\" }"
st=$(curl -s -o "$tmp/reg.json" -w '%{http_code}' -X POST -H "Content-Type: application/json" \
    -H "user-token: $user_token" --data "$body" "$U/platforms?update=standard")
[ "$st" = 200 ] || die "registration: $st $(cat "$tmp/reg.json")"
policy_jwt=$(python3 - <<'EOF'
import base64, json
b = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
pp = json.dumps({"policy_array": [{"environment": {"class_id": "9eec018b-7481-4b1c-8e1a-9f7c0c8c777f"}, "reference": {}}]})
print(b({"alg": "none"}) + "." + b({"policy_payload": pp}) + ".c2ln")
EOF
)
st=$(curl -s -o "$tmp/pol.txt" -w '%{http_code}' -X PUT -H "Content-Type: application/json" \
    -H "admin-token: $admin_token" \
    --data "{\"policy\": \"$policy_jwt\", \"is_default\": true, \"fmspc\": \"$sim_fmspc\"}" \
    "$U/appraisalpolicy")
[ "$st" = 200 ] || die "appraisal policy: $st"
read -r hwid vcek_query < <(python3 -c 'import sys; sys.path.insert(0, sys.argv[1])
import upstream_double as u
v = u.index(sys.argv[2])["vcek"][0]
print(v.hwid, "blSPL=%d&teeSPL=%d&snpSPL=%d&ucodeSPL=%d" % (v.spl[0], v.spl[1], v.spl[2], v.spl[3]))' \
    "$support" "$syn")
# The requests whose answers the upgraded cache must repeat (paths relative to the service).
requests=(
    "/tdx/certification/v4/tcb?fmspc=$sim_fmspc"
    "/tdx/certification/v4/tcb?fmspc=$sim_fmspc&update=early"
    "/tdx/certification/v4/tcb?fmspc=$sim_fmspc&tcbEvaluationDataNumber=17"
    "/tdx/certification/v4/qe/identity"
    "/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
    "/sgx/certification/v4/pckcrl?ca=platform"
    "/sgx/certification/v4/rootcacrl"
    "/sgx/certification/v4/pckcert?qeid=$qeid&encrypted_ppid=$zeros&cpusvn=$cpusvn&pcesvn=$pcesvn&pceid=$sim_pceid"
    "/sgx/certification/v4/appraisalpolicy?fmspc=$sim_fmspc"
    "/vcek/v1/Milan/cert_chain"
    "/vcek/v1/Milan/$hwid?$vcek_query"
)
: >"$tmp/cache.tsv"
for r in "${requests[@]}"; do
    curl -s -o "$tmp/resp.body" -D "$tmp/resp.hdr" "$url$r" >/dev/null
    st=$(head -1 "$tmp/resp.hdr" | cut -d' ' -f2)
    [ "$st" = 200 ] || die "$r: HTTP $st"
    printf '%s\t%s\t%s\t%s\n' "$r" "$st" "$(sha256sum <"$tmp/resp.body" | cut -d' ' -f1)" \
        "$(base64 -w0 <"$tmp/resp.hdr")" >>"$tmp/cache.tsv"
done
stop_pid "$serve_pid"
stop_pid "$DOUBLE_PID"
bundle_key=$("$veritee" cache key --db "$db" --master-key-file "$mk") || die "cache key"
"$veritee" cache enforce --db "$db" --master-key-file "$mk" --list >"$tmp/enforce.json"

# ---- 3. the broker, with the simulators ----
b() { "$veritee" broker "$@" --db "$db" --master-key-file "$mk"; }
serve_broker() { # serve_broker N: veritee serve with the simulators' collateral; sets url
    local pf="$tmp/serve$1.port"
    "$veritee" serve --db "$db" --master-key-file "$mk" --collateral "$tmp/export/collateral" \
        "${anchors[@]}" --mode offline --refresh-interval 0 --listen 127.0.0.1:0 \
        --port-file "$pf" 2>"$tmp/serve$1.log" &
    pids+=($!)
    serve_pid=$!
    url="http://127.0.0.1:$(wait_port "$pf")" || die "serve (broker phase $1)"
}
# The measurements the simulators report (their defaults, fixed in src/attester/sim).
serve_broker 2
claim() { # claim TEE NAME
    "$veritee" client attest --url "$url" --backend "sim:$1" --sim-dir "$out/sim" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["claims"][sys.argv[1]])' "$2"
}
mrenclave=$(claim sgx sgx.mrenclave)
mrtd=$(claim tdx tdx.mrtd)
snp_meas=$(claim snp snp.measurement)
pcr0=$(claim nitro nitro.pcr0)
stop_pid "$serve_pid"
pol() { printf '{"version":1,"rules":{"allOf":[{"claim":"tee","equals":"%s"},{"claim":"%s","equals":"%s"}]}}' "$1" "$2" "$3"; }
pol sgx sgx.mrenclave "$mrenclave" >"$tmp/p-sgx.json"
pol tdx tdx.mrtd "$mrtd" >"$tmp/p-tdx.json"
pol sev-snp snp.measurement "$snp_meas" >"$tmp/p-snp.json"
pol nitro nitro.pcr0 "$pcr0" >"$tmp/p-nitro.json"
printf '{"version":1,"rules":{"anyOf":[{"claim":"sgx.mrenclave","equals":"%s"},{"claim":"tdx.mrtd","equals":"%s"}]}}' \
    "$mrenclave" "$mrtd" >"$tmp/p-dcap.json"
printf '{"version":1,"rules":{"allOf":[{"claim":"debug","equals":false},{"claim":"status","in":["UpToDate","SWHardeningNeeded"]}]}}' \
    >"$tmp/p-att.json"
b policy --policy "$tmp/p-att.json" || die "attestation policy"
printf 'upgrade test: the SGX enclave secret\n' >"$tmp/s-sgx"
printf 'upgrade test: the TD secret, version 1\n' >"$tmp/s-tdx1"
printf 'upgrade test: the TD secret, version 2\n' >"$tmp/s-tdx2"
printf 'upgrade test: the Nitro enclave secret\n' >"$tmp/s-nitro"
printf 'upgrade test: for SGX or TDX\n' >"$tmp/s-dcap"
printf 'upgrade test: never released\n' >"$tmp/s-off"
b key-put --name sgx-secret --secret-file "$tmp/s-sgx" --policy "$tmp/p-sgx.json" >/dev/null
b key-put --name tdx-secret --secret-file "$tmp/s-tdx1" --policy "$tmp/p-tdx.json" >/dev/null
b key-put --name tdx-secret --secret-file "$tmp/s-tdx2" >/dev/null
b key-put --name snp-secret --generate 32 --policy "$tmp/p-snp.json" >/dev/null
b key-put --name nitro-secret --secret-file "$tmp/s-nitro" --policy "$tmp/p-nitro.json" >/dev/null
b key-put --name dcap-secret --secret-file "$tmp/s-dcap" --policy "$tmp/p-dcap.json" >/dev/null
b key-put --name disabled-secret --secret-file "$tmp/s-off" --policy "$tmp/p-tdx.json" >/dev/null
b key-disable --name disabled-secret

: >"$tmp/releases.tsv"
n=0
release() { # release KEY TEE [client options]: a release that must succeed; keeps its receipt
    local key=$1 tee=$2
    shift 2
    n=$((n + 1))
    "$veritee" client release --url "$url" --backend "sim:$tee" --sim-dir "$out/sim" --key "$key" \
        "$@" >"$tmp/rel.json" || die "release $key to $tee"
    local name
    name=$(printf '%02d-%s-%s.json' "$n" "$key" "$tee")
    python3 - "$tmp/rel.json" "$out/receipts/$name" "$tmp/releases.tsv" "$key" "$tee" "$name" <<'EOF'
import base64, hashlib, json, sys
r = json.load(open(sys.argv[1]))
json.dump(r["receipt"], open(sys.argv[2], "w"), sort_keys=True)
open(sys.argv[2], "a").write("\n")
secret = base64.b64decode(r["secret_b64"])
with open(sys.argv[3], "a") as f:
    f.write("%s\t%s\t%d\t%s\t%s\n" % (sys.argv[4], sys.argv[5], r["version"],
                                      hashlib.sha256(secret).hexdigest(), sys.argv[6]))
EOF
}
serve_broker 3
curl -s "$url/.well-known/jwks.json" >"$tmp/jwks1.json"
release sgx-secret sgx
release tdx-secret tdx
release snp-secret snp
release nitro-secret nitro
release dcap-secret sgx --direct
release dcap-secret tdx --key-type RSA-2048
: >"$tmp/refused.tsv"
for kt in tdx-secret:sgx sgx-secret:tdx nitro-secret:snp snp-secret:nitro disabled-secret:tdx; do
    "$veritee" client release --url "$url" --backend "sim:${kt#*:}" --sim-dir "$out/sim" \
        --key "${kt%%:*}" >"$tmp/refused.json" 2>/dev/null && die "${kt%%:*} released to ${kt#*:}"
    printf '%s\t%s\t%s\n' "${kt%%:*}" "${kt#*:}" "$(json_field "$tmp/refused.json" reason)" \
        >>"$tmp/refused.tsv"
done
curl -s -o /dev/null -X POST "$url/v1/challenge" # one outstanding nonce in the dump
stop_pid "$serve_pid"
b rotate-signing-key >/dev/null || die "rotate-signing-key"
serve_broker 4
curl -s "$url/.well-known/jwks.json" >"$tmp/jwks2.json"
release tdx-secret tdx
release nitro-secret nitro --key-type RSA-2048 --cms
release snp-secret snp --direct
stop_pid "$serve_pid"
"$veritee" audit verify --db "$db" >"$tmp/audit.json" || die "audit verify"
b keys >"$tmp/keys.json"

python3 - "$tmp" "$out" "$t_cache" "$bundle_key" "$admin_token" "$user_token" "$broker_token" \
    "$(cat "$tmp/version")" "${VT_RELEASE_COMMIT:-unknown}" <<'EOF'
import base64, hashlib, json, sys, time
tmp, out, t_cache, bundle_key, admin, user, broker_token, version, commit = sys.argv[1:]
jwks = {"keys": []}
for f in ("jwks1.json", "jwks2.json"):
    for k in json.load(open("%s/%s" % (tmp, f)))["keys"]:
        if k["kid"] not in [x["kid"] for x in jwks["keys"]]:
            jwks["keys"].append(k)
with open(out + "/jwks.json", "w") as f:
    json.dump(jwks, f, indent=1, sort_keys=True)
    f.write("\n")
# Headers that do not depend on the request's moment.
skip = {"date", "request-id", "connection", "keep-alive"}
cache = []
for line in open(tmp + "/cache.tsv"):
    path, status, sha, hdr = line.rstrip("\n").split("\t")
    lines = base64.b64decode(hdr).decode().split("\r\n")[1:]
    headers = {}
    for h in lines:
        if ": " in h and h.split(": ", 1)[0].lower() not in skip:
            k, v = h.split(": ", 1)
            # long values (issuer chains) by their hash
            headers[k.lower()] = v if len(v) <= 100 else "sha256:" + hashlib.sha256(v.encode()).hexdigest()
    cache.append({"path": path, "status": int(status), "body_sha256": sha, "headers": headers})
releases = []
for line in open(tmp + "/releases.tsv"):
    key, tee, ver, sha, receipt = line.rstrip("\n").split("\t")
    releases.append({"key": key, "tee": tee, "version": int(ver), "secret_sha256": sha,
                     "receipt": "receipts/" + receipt})
audit = json.load(open(tmp + "/audit.json"))
exp = {
    "made_by": version, "commit": commit,
    "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "cache_now": int(t_cache),
    "tokens": {"admin": admin, "user": user, "broker_admin": broker_token},
    "bundle_key": bundle_key,
    "enforcement": json.load(open(tmp + "/enforce.json")),
    "cache": cache,
    "releases": releases,
    "refused": [dict(zip(("key", "tee", "reason"), line.rstrip("\n").split("\t")))
                for line in open(tmp + "/refused.tsv")],
    "keys": json.load(open(tmp + "/keys.json")),
    "log": {"entries": audit["entries"], "checkpoints": audit["checkpoints"]},
}
with open(out + "/expected.json", "w") as f:
    json.dump(exp, f, indent=1, sort_keys=True)
    f.write("\n")
EOF

# ---- 4. the database as SQL ----
sqlite3 "$dbfile" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
sqlite3 "$dbfile" .dump >"$out/sqlite.sql"
python3 "$support/sqlite_to_pg.py" "$out/sqlite.sql" >"$out/postgres.sql"
# The SQLite dump loads back into the same rows.
sqlite3 "$tmp/back.db" <"$out/sqlite.sql"
[ "$(sqlite3 "$tmp/back.db" .dump)" = "$(cat "$out/sqlite.sql")" ] || die "sqlite.sql does not load back"
# PostgreSQL: the converted dump must give the schema this release creates itself, and this
# release must read it.
pg_start "$tmp/pg" || die "PostgreSQL"
bin=$(pg_bin)
for d in loaded own; do
    pg_as "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U veritee "$d" || die "createdb $d"
done
pgu="postgres://veritee@127.0.0.1:$PG_PORT"
psql -q -v ON_ERROR_STOP=1 "$pgu/loaded" -f "$out/postgres.sql" >/dev/null || die "postgres.sql"
# (a release with `veritee db migrate`: every component, as serve would create them; an older
# one creates its components through the commands below)
if "$veritee" db --help >/dev/null 2>&1; then
    "$veritee" db migrate --db "$pgu/own" >/dev/null || die "own schema (db migrate)"
fi
"$veritee" broker keys --db "$pgu/own" --master-key-file "$mk" >/dev/null || die "own schema"
"$veritee" cache enforce --list --db "$pgu/own" >/dev/null || die "own schema (cache)"
# (a release with the kms component: its tables too; an older one has no kms command)
if "$veritee" kms --help >/dev/null 2>&1; then
    "$veritee" kms access-key list --db "$pgu/own" --master-key-file "$mk" >/dev/null ||
        die "own schema (kms)"
fi
schema() { # (pg_dump 15.14 and later write a random \restrict key)
    pg_as "$bin/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U veritee --schema-only --no-owner "$1" |
        grep -Ev '^\\(un)?restrict '
}
diff <(schema loaded) <(schema own) >&2 || die "postgres.sql's schema is not the release's own"
"$veritee" audit verify --db "$pgu/loaded" | grep -q "\"entries\":$(json_field "$tmp/audit.json" entries)," ||
    die "the release does not verify the PostgreSQL copy's log"
[ "$("$veritee" broker keys --db "$pgu/loaded" --master-key-file "$mk")" = "$(cat "$tmp/keys.json")" ] ||
    die "the release does not list the same keys from the PostgreSQL copy"
echo "gen_db_upgrade: wrote $out ($(du -sh "$out" | cut -f1))"
