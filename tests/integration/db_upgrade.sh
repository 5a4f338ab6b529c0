#!/usr/bin/env bash
# The upgrade test: every database an earlier release wrote (tests/data/db-vN/, made by
# tests/support/gen_db_upgrade.sh with that release) is loaded from its SQL dump into a fresh
# database and opened by this veritee. Before migrating: `veritee db status` reports its versions
# and the pending steps, `db migrate --dry-run` lists them and changes nothing, `serve
# --no-migrate` and an operator command refuse (exit 3) and change nothing. Then `veritee serve`
# migrates it on start and must answer as the old release did: the cache serves the same bytes
# and headers for the same requests, the tokens, the bundle-signing key and the enforcement
# schedule are the same, every key releases to its TEE (the simulators of the same PKIs) with the
# same version and secret and is refused to the others, the receipts issued before the upgrade
# check and match the migrated log (entry at its index, signed checkpoint stored), new releases
# extend the log and `veritee audit verify` passes; the migrated broker makes its CA and issues a
# certificate (/v1/cert). Afterwards every component is at this
# binary's version, a second migrate applies nothing, the schema is exactly a new database's, and
# a database newer than this binary is refused by every command (exit 3) without a change, and
# stops a replica serving on it. On PostgreSQL, tests/unit/store/test_schema.c runs there too.
# Usage: db_upgrade.sh VERITEE [sqlite|postgres]
set -uo pipefail
veritee=${1:?usage: db_upgrade.sh VERITEE [sqlite|postgres]}
backend=${2:-sqlite}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
chmod 755 "$tmp" # the PostgreSQL server runs as another user
source "$support/cache_lib.sh"
source "$support/pg.sh"
trap cleanup EXIT

if [ "$backend" = postgres ]; then
    pg_start "$tmp/pg" || { bad "PostgreSQL"; finish; exit 1; }
fi
ndb=0
new_db() { # new_db: a fresh empty database; sets db (URL) and dbname (file or database name)
    ndb=$((ndb + 1))
    if [ "$backend" = postgres ]; then
        dbname="up$ndb"
        pg_as "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U veritee "$dbname" || return 1
        db="postgres://veritee@127.0.0.1:$PG_PORT/$dbname"
    else
        dbname="$tmp/up$ndb.db"
        db="sqlite:$dbname"
        : >"$dbname" # an empty file is an empty SQLite database
    fi
}
load() { # load DATA_DIR: the dump into the current database
    if [ "$backend" = postgres ]; then
        psql -q -v ON_ERROR_STOP=1 "$db" -f "$1/postgres.sql" >/dev/null
    else
        sqlite3 "$dbname" <"$1/sqlite.sql"
    fi
}
sql() { # sql STATEMENT: run it, rows as text
    if [ "$backend" = postgres ]; then
        psql -qAt -v ON_ERROR_STOP=1 "$db" -c "$1"
    else
        sqlite3 "$dbname" "$1"
    fi
}
schema_of() { # the tables and indexes of the current database, in a stable order
    if [ "$backend" = postgres ]; then
        pg_as "$(pg_bin)/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U veritee --schema-only \
            --no-owner "$dbname" | grep -Ev '^\\(un)?restrict '
    else
        sqlite3 "$dbname" "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
    fi
}
snapshot() { # every table and row of the current database, as text
    if [ "$backend" = postgres ]; then
        pg_as "$(pg_bin)/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U veritee --no-owner "$dbname" |
            grep -Ev '^\\(un)?restrict '
    else
        sqlite3 "$dbname" .dump
    fi
}
jq_() { # jq_ FILE EXPR: a Python expression over the JSON document j
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$1" "$2"
}
# The schema versions of this binary, from `veritee db status` on an empty database.
new_db || { bad "database"; finish; exit 1; }
"$veritee" db status --db "$db" >"$tmp/fresh.json" 2>"$tmp/fresh.err"
check "db status of an empty database: every component absent" \
    [ "$(jq_ "$tmp/fresh.json" '",".join("%s=%d" % (c["component"], c["database_version"]) for c in j["components"])')" = "core=0,cache=0,broker=0,kms=0,keyvault=0,maa=0" ]
binary_versions=$(jq_ "$tmp/fresh.json" '",".join("%s=%d" % (c["component"], c["binary_version"]) for c in j["components"])')
# Usage errors and bad databases: precise, exit 2, nothing created.
usage() { # usage NAME MESSAGE ARGS...: `veritee db ARGS` exits 2 saying MESSAGE
    local name=$1 msg=$2
    shift 2
    "$veritee" db "$@" >/dev/null 2>"$tmp/usage.err"
    local rc=$?
    check "db $name: exit 2 (got $rc)" [ "$rc" = 2 ]
    check "db $name: says \"$msg\"" grep -q -- "$msg" "$tmp/usage.err"
}
usage "without a subcommand" "Usage: veritee db status"
usage "with an unknown subcommand" "unknown subcommand 'upgrade'" upgrade --db "$db"
usage "without --db" "give one of --db URL or --config FILE" status
usage "with --db and --config" "give one of --db URL or --config FILE" status --db "$db" --config x
usage "status --dry-run" "--dry-run is an option of migrate" status --dry-run --db "$db"
usage "with an extra argument" "unexpected argument 'now'" migrate --db "$db" now
usage "with an unknown option" "Usage: veritee db" status --db "$db" --force
usage "with an unknown URL scheme" "unknown database URL scheme in \"mysql://x\"" status --db mysql://x
usage "on a missing SQLite file" "no database at $tmp/none.db" status --db "sqlite:$tmp/none.db"
check "... which it does not create" [ ! -e "$tmp/none.db" ]
usage "migrate on a missing SQLite file" "no database at $tmp/none.db" migrate --db "sqlite:$tmp/none.db"
printf 'listen = 127.0.0.1:0\n' >"$tmp/nodb.conf"
usage "--config without a db line" "has no \"db = URL\" line" status --config "$tmp/nodb.conf"
usage "--config of a missing file" "--config $tmp/none.conf" status --config "$tmp/none.conf"
printf '# a config file\ndb = %s   # the database\nlisten = 127.0.0.1:0\n' "$db" >"$tmp/db.conf"
check "db status --config takes the db line of a config file" \
    cmp -s "$tmp/fresh.json" <("$veritee" db status --config "$tmp/db.conf")
"$veritee" db migrate --db "$db" >/dev/null
check "db migrate creates every component in an empty database" \
    [ "$(jq_ <("$veritee" db status --db "$db") '",".join("%s=%d" % (c["component"], c["database_version"]) for c in j["components"])')" = "$binary_versions" ]
schema_of >"$tmp/schema.new"

upgrade() { # upgrade DATA_DIR
    local data=$1 v
    v=$(basename "$data")
    local exp="$data/expected.json" mk="$data/master.key"
    local now
    now=$(jq_ "$exp" 'j["cache_now"]')
    new_db || { bad "$v: database"; return; }
    load "$data" || { bad "$v: loading the dump"; return; }
    cp -r "$data/sim" "$tmp/sim-$v"
    local sim="$tmp/sim-$v"

    # ---- a backup taken by the old release's database, restored by this one (SQLite) ----
    if [ "$backend" = sqlite ]; then
        "$veritee" db status --db "$db" >"$tmp/st-old"
        "$veritee" restore --check --db "$db" --master-key-file "$mk" >"$tmp/rcheck.json" 2>&1
        local rc_check=$?
        # A check in place reads the database as it is (writes nothing): with a step of the
        # broker's (or core's) schema pending it refuses and says what to run; checked again on
        # a migrated copy.
        if [ "$(jq_ "$tmp/st-old" 'sum(len(c["pending"]) for c in j["components"] if c["component"] in ("core", "broker") and c["database_version"] > 0)')" -gt 0 ]; then
            check "$v: restore --check in place with a broker step pending: exit 3 ($rc_check)" [ "$rc_check" = 3 ]
            check "$v: ... naming the pending step and veritee db migrate" \
                grep -q 'schema.pending: .*veritee db migrate' "$tmp/rcheck.json"
            cp "$dbname" "$tmp/copy-$v.db"
            "$veritee" db migrate --db "sqlite:$tmp/copy-$v.db" >/dev/null
            "$veritee" restore --check --db "sqlite:$tmp/copy-$v.db" --master-key-file "$mk" \
                >"$tmp/rcheck2.json" 2>&1
            check "$v: restore --check on a migrated copy of the old database passes" \
                grep -q '"log_verified":true' "$tmp/rcheck2.json"
        else
            check "$v: restore --check on the old database in place passes" \
                grep -q '"log_verified":true' "$tmp/rcheck.json"
        fi
        "$veritee" db status --db "$db" >"$tmp/st-old2"
        check "$v: ... and migrates nothing in it" cmp -s "$tmp/st-old" "$tmp/st-old2"
        rm -f "$tmp/old.vtbak" "$tmp/restored.db"
        "$veritee" backup --db "$db" --out "$tmp/old.vtbak" >/dev/null 2>&1
        "$veritee" restore --backup "$tmp/old.vtbak" --db "sqlite:$tmp/restored.db" \
            --master-key-file "$mk" >"$tmp/restore.json" 2>"$tmp/restore.err"
        check "$v: a backup of the old database restores" grep -q '"log_verified":true' "$tmp/restore.json"
        check "$v: ... brought to this binary's schema (said on stderr)" grep -Eq 'migrated|created' "$tmp/restore.err"
        check "$v: ... every component current in the restored database" \
            [ "$(jq_ <("$veritee" db status --db "sqlite:$tmp/restored.db") 'all(c["state"] == "current" and c["recorded"] for c in j["components"])')" = true ]
    fi

    # ---- before migrating ----
    "$veritee" db status --db "$db" >"$tmp/status0.json"
    check "$v: db status" [ $? = 0 ]
    local before
    before=$(jq_ "$exp" 'j.get("schema", "core=1,cache=1,broker=1,kms=0")')
    # the keyvault component came after these releases (issue 20)
    [[ $before == *keyvault* ]] || before="$before,keyvault=0"
    # (every release so far predates the maa component, issue 20: absent in its data)
    [[ $before == *maa=* ]] || before="$before,maa=0"
    check "$v: db status gives the versions the release wrote ($before)" \
        [ "$(jq_ "$tmp/status0.json" '",".join("%s=%d" % (c["component"], c["database_version"]) for c in j["components"])')" = "$before" ]
    check "$v: db status: this binary's versions" \
        [ "$(jq_ "$tmp/status0.json" '",".join("%s=%d" % (c["component"], c["binary_version"]) for c in j["components"])')" = "$binary_versions" ]
    check "$v: db status lists the pending steps, each with its component, version and name" \
        [ "$(jq_ "$tmp/status0.json" 'all(c["database_version"] < p["version"] <= c["binary_version"] and p["name"] for c in j["components"] for p in c["pending"]) and sum(len(c["pending"]) for c in j["components"]) == sum(c["binary_version"] - c["database_version"] for c in j["components"])')" = true ]
    local pending
    pending=$(jq_ "$tmp/status0.json" 'sum(len(c["pending"]) for c in j["components"] if c["database_version"] > 0)')
    snapshot >"$tmp/snap0"
    "$veritee" db migrate --db "$db" --dry-run >"$tmp/dry.json"
    check "$v: db migrate --dry-run" [ $? = 0 ]
    # (db migrate migrates the components the database holds; one it lacks, such as a component
    # a later release added, is created by the commands that use it: veritee serve here)
    check "$v: --dry-run lists the steps db status gave, with their SQL" \
        [ "$(jq_ "$tmp/dry.json" '[(s["component"], s["version"]) for s in j["steps"] if s["action"] != "adopt"]')" = \
          "$(jq_ "$tmp/status0.json" '[(c["component"], p["version"]) for c in j["components"] if c["database_version"] > 0 for p in c["pending"]]')" ]
    snapshot >"$tmp/snap1"
    check "$v: --dry-run changed nothing" cmp -s "$tmp/snap0" "$tmp/snap1"
    if [ "$pending" -gt 0 ]; then
        timeout 30 "$veritee" serve --db "$db" --master-key-file "$mk" --no-migrate --listen 127.0.0.1:0 \
            2>"$tmp/nomig.err" >/dev/null
        check "$v: serve --no-migrate refuses a database with pending steps: exit 3" [ $? = 3 ]
        check "$v: ... saying which component and versions, and what to run" \
            grep -q 'schema.pending: .*at version .*this veritee.*veritee db migrate' "$tmp/nomig.err"
        printf 'db = %s\nmaster-key-file = %s\nlisten = 127.0.0.1:0\nno-migrate\n' "$db" "$mk" \
            >"$tmp/nomig.conf"
        timeout 30 "$veritee" serve --config "$tmp/nomig.conf" >/dev/null 2>&1
        check "$v: no-migrate in the config file: the same refusal" [ $? = 3 ]
        # an operator command of each component with a step pending
        local comp
        for comp in $(jq_ "$tmp/status0.json" '" ".join(c["component"] for c in j["components"] if c["pending"] and c["database_version"] > 0)'); do
            case $comp in
            cache) "$veritee" cache enforce --list --db "$db" >/dev/null 2>"$tmp/keys.err" ;;
            broker) "$veritee" broker keys --db "$db" --master-key-file "$mk" >/dev/null 2>"$tmp/keys.err" ;;
            *) continue ;;
            esac
            check "$v: an operator command of the $comp refuses to migrate: exit 3" [ $? = 3 ]
            check "$v: ... and names veritee db migrate" grep -q 'veritee db migrate' "$tmp/keys.err"
        done
        snapshot >"$tmp/snap1"
        check "$v: the refusals changed nothing" cmp -s "$tmp/snap0" "$tmp/snap1"
    fi

    # ---- the cache, at the time the release served it; veritee serve migrates on start ----
    local pf="$tmp/$v.1.port"
    "$veritee" serve --db "$db" --master-key-file "$mk" --now "$now" --mode offline \
        --refresh-interval 0 --listen 127.0.0.1:0 --port-file "$pf" 2>"$tmp/$v.serve1.log" &
    pids+=($!)
    local pid=$! url
    url="http://127.0.0.1:$(wait_port "$pf")" || { bad "$v: serve"; cat "$tmp/$v.serve1.log"; return; }
    check "$v: serve says what it migrated (or created: a component the release lacked)" \
        grep -Eq "migrated|created" "$tmp/$v.serve1.log"
    "$veritee" db status --db "$db" >"$tmp/status1.json"
    check "$v: after serve every component is at this binary's version" \
        [ "$(jq_ "$tmp/status1.json" '",".join("%s=%d" % (c["component"], c["database_version"]) for c in j["components"])')" = "$binary_versions" ]
    check "$v: ... recorded, nothing pending" \
        [ "$(jq_ "$tmp/status1.json" 'all(c["recorded"] and not c["pending"] for c in j["components"])')" = true ]
    schema_of >"$tmp/schema.migrated"
    check "$v: the migrated database has exactly the tables and indexes of a new one" \
        diff "$tmp/schema.new" "$tmp/schema.migrated"
    local n i path
    n=$(jq_ "$exp" 'len(j["cache"])')
    for ((i = 0; i < n; i++)); do
        path=$(jq_ "$exp" "j['cache'][$i]['path']")
        curl -s -o "$tmp/body" -D "$tmp/hdr" "$url$path"
        python3 - "$exp" "$i" "$tmp/body" "$tmp/hdr" <<'EOF' >"$tmp/cmp.txt"
import hashlib, json, sys
want = json.load(open(sys.argv[1]))["cache"][int(sys.argv[2])]
raw = open(sys.argv[4], "rb").read().decode().split("\r\n")
status = int(raw[0].split()[1])
got = {}
for h in raw[1:]:
    if ": " in h:
        k, v = h.split(": ", 1)
        if k.lower() not in ("date", "request-id", "connection", "keep-alive"):
            got[k.lower()] = v if len(v) <= 100 else "sha256:" + hashlib.sha256(v.encode()).hexdigest()
sha = hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest()
bad = []
if status != want["status"]:
    bad.append("status %d, was %d" % (status, want["status"]))
if sha != want["body_sha256"]:
    bad.append("body differs")
if got != want["headers"]:
    bad.append("headers %s, were %s" % (sorted(got.items()), sorted(want["headers"].items())))
print("; ".join(bad) or "same")
EOF
        check "$v: the cache answers $path as the release did ($(cat "$tmp/cmp.txt"))" \
            grep -qx same "$tmp/cmp.txt"
    done
    local admin user broker_admin
    admin=$(jq_ "$exp" 'j["tokens"]["admin"]')
    user=$(jq_ "$exp" 'j["tokens"]["user"]')
    broker_admin=$(jq_ "$exp" 'j["tokens"]["broker_admin"]')
    check "$v: the cache's admin token (PCCS admin-token)" \
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H "admin-token: $admin" "$url/sgx/certification/v4/platforms")" = 200 ]
    check "$v: the broker's admin token" \
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $broker_admin" "$url/admin/v1/keys")" = 200 ]
    check "$v: the user token is no admin token" \
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H "admin-token: $user" "$url/sgx/certification/v4/platforms")" = 401 ]
    check "$v: the user token registers (PCKIDRetrievalTool)" \
        [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "user-token: $user" --data '{"enc_ppid": "'"$(printf 'CD%.0s' $(seq 1 384))"'" ,"pce_id": "0000" ,"cpu_svn": "00000000000000000000000000000000" ,"pce_svn": "0000" ,"qe_id": "FFEEDDCCBBAA99887766554433221100" ,"platform_manifest": "" }' "$url/sgx/certification/v4/platforms")" = 200 ]
    stop_pid "$pid"
    check "$v: the bundle-signing key is the same" \
        [ "$("$veritee" cache key --db "$db" --master-key-file "$mk")" = "$(jq_ "$exp" 'j["bundle_key"]')" ]
    check "$v: the enforcement schedule is the same" \
        [ "$(jq_ <("$veritee" cache enforce --list --db "$db") 'j')" = "$(jq_ "$exp" 'j["enforcement"]')" ]
    # (the data's collateral is the simulators': checked against their roots at its time)
    check "$v: every cached item still checks" grep -Eq '"good":[1-9][0-9]*,"bad":0' <("$veritee" cache check --db "$db" \
        --now "$now" --trust-anchor "$sim/tdx/cert-0.pem" --amd-anchor "$sim/snp/ark.pem" 2>/dev/null)
    # (each key's "versions" list came with issue 23's console: compared where the release
    # listed it (db-v5 on); before, the rest must be what the release listed, and the list must
    # name the current version)
    "$veritee" broker keys --db "$db" --master-key-file "$mk" >"$tmp/keys-now.json"
    check "$v: the keys are the same (versions, policies, state)" python3 -c '
import json, sys
now = json.load(open(sys.argv[1]))
then = json.load(open(sys.argv[2]))["keys"]
members = {m for x in then for m in x}
sys.exit([{m: x[m] for m in x if m in members or m != "versions"} for x in now] != then)' \
        "$tmp/keys-now.json" "$exp"
    check "$v: ... and each key's versions list names its current version" \
        [ "$(jq_ "$tmp/keys-now.json" 'all([w["version"] for w in x["versions"] if w["current"]] == [x["version"]] for x in j)')" = true ]

    # ---- the broker, with the simulators of the same PKIs ----
    "$veritee" client sim-export --backend sim:sgx --sim-dir "$sim" --out "$tmp/export-$v" >/dev/null
    for t in tdx snp nitro; do
        "$veritee" client sim-export --backend "sim:$t" --sim-dir "$sim" --out "$tmp/export-$v" >/dev/null
    done
    cp "$tmp/export-$v/collateral/snp/cert_chain.pem" "$tmp/export-$v/collateral/"
    local anchors=()
    for t in sgx tdx sev-snp nitro; do
        anchors+=(--trust-anchor "$tmp/export-$v/anchors/$t.pem")
    done
    pf="$tmp/$v.2.port"
    "$veritee" serve --db "$db" --master-key-file "$mk" --collateral "$tmp/export-$v/collateral" \
        "${anchors[@]}" --mode offline --refresh-interval 0 --listen 127.0.0.1:0 \
        --port-file "$pf" 2>"$tmp/$v.serve2.log" &
    pids+=($!)
    pid=$!
    url="http://127.0.0.1:$(wait_port "$pf")" || { bad "$v: serve 2"; cat "$tmp/$v.serve2.log"; return; }
    check "$v: a migrated database starts without migrating again" \
        bash -c "! grep -q migrated '$tmp/$v.serve2.log'"
    local key tee ver sha
    while IFS=$'\t' read -r key tee ver sha; do
        "$veritee" client release --url "$url" --backend "sim:$tee" --sim-dir "$sim" --key "$key" \
            >"$tmp/rel.json" 2>"$tmp/rel.err"
        check "$v: $key releases to $tee, version $ver, the same secret" \
            [ "$(jq_ "$tmp/rel.json" '"%d %s" % (j["version"], __import__("hashlib").sha256(__import__("base64").b64decode(j["secret_b64"])).hexdigest())')" = "$ver $sha" ]
    done < <(jq_ "$exp" '"\n".join(sorted(set("%s\t%s\t%d\t%s" % (r["key"], r["tee"], r["version"], r["secret_sha256"]) for r in j["releases"])))')
    local reason
    while IFS=$'\t' read -r key tee reason; do
        "$veritee" client release --url "$url" --backend "sim:$tee" --sim-dir "$sim" --key "$key" \
            >"$tmp/rel.json" 2>/dev/null
        check "$v: $key is refused to $tee ($reason)" \
            [ "$(jq_ "$tmp/rel.json" 'j["ok"], j["reason"]')" = "$(jq_ <(echo null) "(False, '$reason')")" ]
    done < <(jq_ "$exp" '"\n".join("%s\t%s\t%s" % (r["key"], r["tee"], r["reason"]) for r in j["refused"])')
    # certificates from the broker (broker schema step 2): the CA the migration's first start
    # made, a profile, a certificate for an attested TDX key
    curl -s "$url/v1/ca" >"$tmp/ca-$v.pem"
    check "$v: the migrated broker publishes its CA (GET /v1/ca)" openssl x509 -in "$tmp/ca-$v.pem" -noout
    check "$v: ... the one veritee broker ca prints" \
        cmp -s "$tmp/ca-$v.pem" <("$veritee" broker ca --db "$db" --master-key-file "$mk")
    curl -s -o /dev/null -H "Authorization: Bearer $broker_admin" --data '{"name":"up","dns":["up.example"]}' \
        "$url/admin/v1/cert-profiles"
    "$veritee" client broker-cert --url "$url" --backend sim:tdx --sim-dir "$sim" --profile up \
        --out "$tmp/up-$v.crt" --key-out "$tmp/up-$v.key" >"$tmp/cert-$v.json" 2>&1
    check "$v: a certificate on the migrated database, chaining to its CA" \
        openssl verify -CAfile "$tmp/ca-$v.pem" "$tmp/up-$v.crt"
    curl -s "$url/.well-known/jwks.json" >"$tmp/jwks.json"
    check "$v: the active signing key is still published" \
        [ "$(jq_ "$tmp/jwks.json" '[k["kid"] for k in j["keys"]][0]')" = "$(jq_ "$data/jwks.json" '[k["kid"] for k in j["keys"]][-1]')" ]
    "$veritee" client release --url "$url" --backend sim:tdx --sim-dir "$sim" --key tdx-secret \
        | python3 -c 'import json,sys; json.dump(json.load(sys.stdin)["receipt"], sys.stdout)' >"$tmp/new-receipt.json"
    check "$v: a receipt issued after the upgrade checks, past the old log" \
        [ "$(jq_ <("$veritee" audit receipt --receipt "$tmp/new-receipt.json" --jwks "$tmp/jwks.json") 'j["verified"] and j["index"] >= '"$(jq_ "$exp" 'j["log"]["entries"]')")" = true ]
    stop_pid "$pid"
    local r idx size
    for r in $(jq_ "$exp" '" ".join(r["receipt"] for r in j["releases"])'); do
        "$veritee" audit receipt --receipt "$data/$r" --jwks "$data/jwks.json" >"$tmp/rc.json" 2>&1
        check "$v: $r, issued before the upgrade, checks" grep -q '"verified":true' "$tmp/rc.json"
        idx=$(jq_ "$data/$r" 'j["receipt"]["index"]')
        size=$(jq_ "$data/$r" 'j["receipt"]["tree_size"]')
        check "$v: $r: its entry is at index $idx of the migrated log" \
            [ "$(jq_ <("$veritee" broker log --db "$db" --master-key-file "$mk" --start "$idx" --limit 1) 'j[0]["entry"]')" = \
              "$(jq_ "$data/$r" 'json.loads(__import__("base64").b64decode(j["receipt"]["entry"]))')" ]
        check "$v: $r: its signed checkpoint is the log's checkpoint of size $size" \
            [ "$(sql "SELECT body FROM vb_checkpoints WHERE size = $size" | tr '\n' '|')" = \
              "$(jq_ "$data/$r" 'j["receipt"]["checkpoint"]["body"]' | tr '\n' '|')" ]
    done
    "$veritee" audit verify --db "$db" >"$tmp/audit.json"
    check "$v: audit verify passes on the migrated log" grep -q '"verified":true' "$tmp/audit.json"
    check "$v: ... which holds the old entries and the new ones" \
        [ "$(jq_ "$tmp/audit.json" 'j["entries"] > '"$(jq_ "$exp" 'j["log"]["entries"]')")" = true ]

    # ---- the KMS service on the migrated database (its kms component, created by serve) ----
    check "$v: the kms component was created by the migration" \
        [ "$(jq_ <("$veritee" db status --db "$db") '[c["database_version"] for c in j["components"] if c["component"] == "kms"][0]')" = 1 ]
    "$veritee" kms access-key create --db "$db" --master-key-file "$mk" \
        --principal arn:aws:iam::111122223333:role/admin --admin >"$tmp/ak.json"
    check "$v: kms access-key create on the migrated database" grep -q '"AccessKeyId":"AKIA' "$tmp/ak.json"
    check "$v: ... listed" grep -q 'role/admin' <("$veritee" kms access-key list --db "$db" --master-key-file "$mk")
    # ---- the Key Vault service on the migrated database (its keyvault component, created by
    # serve): a key created with a bearer token of the migrated database and read back ----
    check "$v: the keyvault component was created by the migration" \
        [ "$(jq_ <("$veritee" db status --db "$db") '[c["database_version"] for c in j["components"] if c["component"] == "keyvault"][0]')" = 1 ]
    local bearer kvpf="$tmp/$v.kv.port" kvpid
    bearer=$("$veritee" broker token --db "$db" --master-key-file "$mk" --name kv-upgrade)
    "$veritee" serve --db "$db" --master-key-file "$mk" --mode offline --refresh-interval 0 \
        --listen 127.0.0.1:0 --keyvault-listen 127.0.0.1:0 --keyvault-port-file "$kvpf" \
        2>"$tmp/$v.serve3.log" &
    pids+=($!)
    kvpid=$!
    local kvurl
    kvurl="http://127.0.0.1:$(wait_port "$kvpf")/keys/upgraded" || bad "$v: serve --keyvault-listen"
    check "$v: keyvault: the challenge before a token" \
        bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST '$kvurl/create?api-version=7.4' | grep -q 401"
    check "$v: keyvault: a key created on the migrated database" \
        bash -c "curl -sf -H 'Authorization: Bearer $bearer' -H 'Content-Type: application/json' -d '{\"kty\":\"EC-HSM\"}' '$kvurl/create?api-version=7.4' | grep -q '\"kty\":\"EC-HSM\"'"
    check "$v: keyvault: ... and read back" \
        bash -c "curl -sf -H 'Authorization: Bearer $bearer' '$kvurl?api-version=7.4' | grep -q '\"crv\":\"P-256\"'"
    kill "$kvpid" 2>/dev/null
    wait "$kvpid" 2>/dev/null
    "$veritee" audit verify --db "$db" >"$tmp/audit2.json"
    check "$v: audit verify still passes" grep -q '"verified":true' "$tmp/audit2.json"

    # ---- the MAA service on the migrated database (its maa component, created by serve) ----
    check "$v: the maa component was created by the migration" \
        [ "$(jq_ <("$veritee" db status --db "$db") '[c["database_version"] for c in j["components"] if c["component"] == "maa"][0]')" = 1 ]
    pf="$tmp/$v.3.port"
    "$veritee" serve --db "$db" --master-key-file "$mk" --collateral "$tmp/export-$v/collateral" \
        "${anchors[@]}" --mode offline --refresh-interval 0 --listen 127.0.0.1:0 \
        --port-file "$tmp/$v.3.main" --maa-listen 127.0.0.1:0 --maa-port-file "$pf" \
        2>"$tmp/$v.serve3.log" &
    pids+=($!)
    pid=$!
    local maa
    maa="http://127.0.0.1:$(wait_port "$pf")" || { bad "$v: serve 3"; cat "$tmp/$v.serve3.log"; return; }
    printf '{"upgrade":"%s"}' "$v" >"$tmp/rt.json"
    "$veritee" client evidence --backend sim:sgx --sim-dir "$sim" --out "$tmp/maa-quote.bin" \
        --report-data "$(sha256sum "$tmp/rt.json" | cut -c1-64)"
    b64u() { base64 -w0 "$1" | tr '+/' '-_' | tr -d '='; }
    printf '{"quote":"%s","runtimeData":{"data":"%s","dataType":"JSON"}}' \
        "$(b64u "$tmp/maa-quote.bin")" "$(b64u "$tmp/rt.json")" >"$tmp/maa-req.json"
    curl -s -X POST -H 'content-type: application/json' --data-binary @"$tmp/maa-req.json" \
        "$maa/attest/SgxEnclave?api-version=2022-08-01" >"$tmp/maa-resp.json"
    check "$v: MAA attests on the migrated database" \
        [ "$(jq_ "$tmp/maa-resp.json" 'json.loads(__import__("base64").urlsafe_b64decode(j["token"].split(".")[1] + "==="))["x-ms-runtime"]["upgrade"]')" = "$v" ]
    check "$v: ... with the signing key it made there" \
        [ "$(jq_ <(curl -s "$maa/certs") 'j["keys"][0]["kid"]')" = "$(sql "SELECT kid FROM vm_signing_keys")" ]
    stop_pid "$pid"

    # ---- afterwards ----
    snapshot >"$tmp/snap2"
    "$veritee" db migrate --db "$db" >"$tmp/mig.json"
    check "$v: a second db migrate applies nothing" [ "$(jq_ "$tmp/mig.json" 'len(j["applied"])')" = 0 ]
    snapshot >"$tmp/snap3"
    check "$v: ... and changes nothing" cmp -s "$tmp/snap2" "$tmp/snap3"
}

for data in "$here"/../data/db-v*/; do
    upgrade "${data%/}"
done

# ---- a database newer than this binary ----
new_db || { bad "database"; finish; exit 1; }
load "$here/../data/db-v1" && "$veritee" db migrate --db "$db" >/dev/null
mk="$here/../data/db-v1/master.key"
# A replica serving when another veritee migrates the database further stops (within
# CLI_WATCH_SECONDS, 10 s) with exit status 3.
"$veritee" serve --db "$db" --master-key-file "$mk" --mode offline --refresh-interval 0 \
    --listen 127.0.0.1:0 --port-file "$tmp/old.port" 2>"$tmp/old.log" &
old_pid=$!
wait_port "$tmp/old.port" >/dev/null || bad "serve before the newer migration"
sql "INSERT INTO vt_schema(component, version, name, applied_at, veritee_version) VALUES ('broker', 99, 'from the future', 0, '99.0')"
for i in $(seq 1 250); do
    kill -0 "$old_pid" 2>/dev/null || break
    sleep 0.1
done
kill "$old_pid" 2>/dev/null
wait "$old_pid"
rc=$?
check "a serving replica older than the database stops serving: exit 3 (got $rc)" [ "$rc" = 3 ]
check "... and says why" grep -q 'schema.newer: .*broker schema is at version 99.*this process stops serving' "$tmp/old.log"
snapshot >"$tmp/snap0"
for cmd in "serve --listen 127.0.0.1:0 --master-key-file $mk" "broker serve --listen 127.0.0.1:0 \
    --master-key-file $mk" "broker keys --master-key-file $mk" "audit verify" "db migrate" \
    "kms access-key list --master-key-file $mk"; do
    # shellcheck disable=SC2086
    timeout 30 "$veritee" $cmd --db "$db" >/dev/null 2>"$tmp/newer.err"
    rc=$?
    check "a newer database: veritee $cmd refuses with exit 3 (got $rc)" [ "$rc" = 3 ]
    check "... naming the component, both versions and the release that wrote it" \
        grep -q 'schema.newer: .*broker schema is at version 99.*veritee 99.0.*this veritee .* knows version' "$tmp/newer.err"
done
check "a newer broker schema does not stop veritee cache serve (it uses no broker table)" \
    bash -c "'$veritee' cache token --db '$db' --role read >/dev/null"
sql "DELETE FROM vt_tokens WHERE role = 'read'" >/dev/null
snapshot >"$tmp/snap1"
check "the refusals changed nothing" cmp -s "$tmp/snap0" "$tmp/snap1"
"$veritee" db status --db "$db" >"$tmp/newer.json"
check "db status reports a newer component" \
    [ "$(jq_ "$tmp/newer.json" '[c["state"] for c in j["components"] if c["component"] == "broker"][0]')" = newer ]

# The migration framework's unit test (test-only steps, rollback, two migrators at once) on
# PostgreSQL: its advisory lock.
if [ "$backend" = postgres ]; then
    unit="$(dirname "$veritee")/tests/store_test_schema"
    if [ -x "$unit" ] && new_db; then
        check "tests/unit/store/test_schema.c on PostgreSQL" \
            env VT_TEST_SCHEMA_DB="$db" "$unit"
    else
        bad "store_test_schema not built at $unit"
    fi
fi
finish
