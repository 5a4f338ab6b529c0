#!/usr/bin/env bash
# veritee backup and veritee restore as an operator uses them (docs/deploy.md, "Backup and
# restore"), on SQLite: a backup of a running broker with log entries and a sealed bundle key,
# restored and released from again (the same secret); then every refusal, each with its precise
# message: options, a PostgreSQL URL, a missing, empty, non-SQLite or non-veritee database, an
# existing output or a left-over .partial, a corrupt or truncated backup, a tampered log entry,
# checkpoint or data key, a wrong or missing master key (naming the key ids), a key rotated since
# the backup, a target that is not empty, not SQLite or has a stale -wal; --check, --config,
# VERITEE_MASTER_KEY and --issuer. The load test is tests/unit/broker/test_broker_backup.c.
# Usage: backup_cli.sh VERITEE
set -uo pipefail
veritee=${1:?usage: backup_cli.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT

# refused NAME STATUS PATTERN COMMAND...: the command exits with STATUS and its stderr matches
# PATTERN (grep -E).
refused() {
    local name=$1 want=$2 pattern=$3
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" != "$want" ]; then
        bad "$name: exit $got, expected $want: $(head -c 600 "$tmp/err")"
    elif ! grep -Eq -- "$pattern" "$tmp/err"; then
        bad "$name: stderr does not match '$pattern': $(head -c 600 "$tmp/err")"
    else
        ok
    fi
}

db="sqlite:$tmp/live.db"
mk="$tmp/master.key"
"$veritee" broker master-key >"$mk"
"$veritee" broker master-key >"$tmp/wrong.key"
mk_id=$("$veritee" broker master-key-id --master-key-file "$mk" | sed -E 's/.*"master_key_id":"([0-9a-f]+)".*/\1/')
wrong_id=$("$veritee" broker master-key-id --master-key-file "$tmp/wrong.key" | sed -E 's/.*"master_key_id":"([0-9a-f]+)".*/\1/')
check "master-key-id: 16 hex digits" grep -Eq '^[0-9a-f]{16}$' <<<"$mk_id"
check "master-key-id: the same key, the same id" [ "$mk_id" = "$(VERITEE_MASTER_KEY=$(cat "$mk") "$veritee" broker master-key-id | sed -E 's/.*"master_key_id":"([0-9a-f]+)".*/\1/')" ]
check "master-key-id: another key, another id" [ "$mk_id" != "$wrong_id" ]

for cmd in "backup --help" "restore --help"; do
    check "veritee $cmd" bash -c "$veritee $cmd | grep -q Usage"
done
check "veritee --help lists backup and restore" bash -c "$veritee --help | grep -q '^  backup' && $veritee --help | grep -q '^  restore'"

# ---- a live broker with log entries, a sealed bundle key and an admin token ----
"$veritee" client sim-export --backend sim:tdx --sim-dir "$tmp/sim" --out "$tmp/export" >/dev/null
"$veritee" broker key-put --db "$db" --master-key-file "$mk" --name pepper --generate 32 >/dev/null
admin=$("$veritee" broker token --db "$db" --master-key-file "$mk")
"$veritee" cache export --db "$db" --master-key-file "$mk" --mode offline --out "$tmp/bundle.bin" \
    2>/dev/null >/dev/null
check "the cache's bundle-signing key is sealed in the database" \
    bash -c "sqlite3 $tmp/live.db \"SELECT value FROM vt_meta WHERE name = 'bundle_key'\" | grep -q '^sealed:'"
pf="$tmp/live.port"
"$veritee" broker serve --db "$db" --master-key-file "$mk" --collateral "$tmp/export/collateral" \
    --trust-anchor "$tmp/export/anchors/tdx.pem" --listen 127.0.0.1:0 --port-file "$pf" \
    2>"$tmp/live.log" &
live_pid=$!
pids+=($live_pid)
url="http://127.0.0.1:$(wait_port "$pf")"
rel() { "$veritee" client release --url "$1" --backend sim:tdx --sim-dir "$tmp/sim" --key pepper --out "$2"; }
check "a release before the backup" grep -q '"ok":true' <(rel "$url" "$tmp/pepper.before")
rel "$url" "$tmp/pepper.before2" >/dev/null
check "a challenge outstanding at the backup" bash -c "curl -sf -X POST -d '{}' $url/v1/challenge | grep -q nonce"

check "backup of the running service" bash -c "$veritee backup --db $db --out $tmp/b1.db >$tmp/b1.json"
check "backup: its report" grep -Eq '"backup":".*b1.db","bytes":[0-9]+,"keys":1,"key_versions":1,"signing_keys":1,"log_entries":[1-9][0-9]*,"checkpoint_size":[1-9]' "$tmp/b1.json"
check "backup: the master key id it needs" grep -q "\"master_key_id\":\"$mk_id\"" "$tmp/b1.json"
check "backup: mode 0600" [ "$(stat -c %a "$tmp/b1.db")" = 600 ]
check "backup: one self-contained file (no -wal, rollback journal mode)" \
    bash -c "[ ! -e $tmp/b1.db-wal ] && [ \"\$(sqlite3 $tmp/b1.db 'PRAGMA journal_mode')\" = delete ]"
check "backup: no .partial left" [ ! -e "$tmp/b1.db.partial" ]
check "backup: PRAGMA integrity_check" [ "$(sqlite3 "$tmp/b1.db" 'PRAGMA integrity_check')" = ok ]
check "backup: no plaintext secret" python3 -c 'import sys; sys.exit(open(sys.argv[1], "rb").read() in open(sys.argv[2], "rb").read())' "$tmp/pepper.before" "$tmp/b1.db"
check "backup: the log as it was" [ "$(sqlite3 "$tmp/b1.db" 'SELECT count(*) FROM vb_log')" -ge 2 ]
printf 'db = %s   # the service'"'"'s file\nlisten = 127.0.0.1:9\n' "$db" >"$tmp/v.conf"
check "backup --config takes db from the service's config" \
    grep -q '"backup":' <("$veritee" backup --config "$tmp/v.conf" --out "$tmp/b-config.db")

# ---- restore, and the restored service ----
check "restore --check of the backup" grep -q "\"checked\":\".*b1.db\",\"master_key_id\":\"$mk_id\",\"key_versions\":1" \
    <("$veritee" restore --check --backup "$tmp/b1.db" --master-key-file "$mk")
check "restore --check wrote nothing beside the backup" bash -c "[ -z \"\$(ls -A $tmp | grep -E 'veritee-restore|b1.db-')\" ]"
check "restore into a new file" grep -Eq '"restored":".*r1.db",.*"log_verified":true,"challenges_dropped":[1-9]' \
    <("$veritee" restore --backup "$tmp/b1.db" --db "sqlite:$tmp/r1.db" --master-key-file "$mk")
check "restore: the challenges in flight at the backup are dropped (they may be spent since): the nonce key's salt and the nonce rows" \
    bash -c "[ \"\$(sqlite3 $tmp/b1.db \"SELECT count(*) FROM vt_meta WHERE name = 'broker_nonce_salt'\")\" = 1 ] && [ \"\$(sqlite3 $tmp/r1.db \"SELECT count(*) FROM vt_meta WHERE name = 'broker_nonce_salt'\")\" = 0 ] && [ \"\$(sqlite3 $tmp/r1.db 'SELECT count(*) FROM vb_nonces')\" = 0 ]"
check "restore: mode 0600, no work directory left" \
    bash -c "[ \"\$(stat -c %a $tmp/r1.db)\" = 600 ] && ! ls -A $tmp | grep -q veritee-restore"
check "restore: the restored database is in WAL mode" [ "$(sqlite3 "$tmp/r1.db" 'PRAGMA journal_mode')" = wal ]
check "audit verify on the restored database" grep -q '"verified":true' <("$veritee" audit verify --db "sqlite:$tmp/r1.db")
stop_pid "$live_pid"
pf="$tmp/r1.port"
"$veritee" broker serve --db "sqlite:$tmp/r1.db" --master-key-file "$mk" \
    --collateral "$tmp/export/collateral" --trust-anchor "$tmp/export/anchors/tdx.pem" \
    --listen 127.0.0.1:0 --port-file "$pf" 2>"$tmp/r1.log" &
pids+=($!)
url="http://127.0.0.1:$(wait_port "$pf")"
check "the restored service releases" grep -q '"ok":true' <(rel "$url" "$tmp/pepper.after")
check "the same secret as before the backup" cmp -s "$tmp/pepper.before" "$tmp/pepper.after"
check "the admin token from before the backup" \
    bash -c "curl -sf -H 'Authorization: Bearer $admin' $url/admin/v1/keys | grep -q pepper"
check "an empty existing file is a valid target" bash -c ": >$tmp/empty.db && $veritee restore --backup $tmp/b1.db --db $tmp/empty.db --master-key-file $mk >/dev/null"
check "VERITEE_MASTER_KEY gives the key" bash -c "VERITEE_MASTER_KEY=\$(cat $mk) $veritee restore --backup $tmp/b1.db --db sqlite:$tmp/r-env.db >/dev/null"
printf 'db = sqlite:%s\nmaster-key-file = %s\n' "$tmp/r-config.db" "$mk" >"$tmp/r.conf"
check "restore --config takes db and master-key-file" grep -q '"restored":' \
    <("$veritee" restore --config "$tmp/r.conf" --backup "$tmp/b1.db")

# a cache's database that was never given a master key: nothing sealed, no key needed
"$veritee" cache export --db "sqlite:$tmp/cache.db" --mode offline --out "$tmp/cache-bundle.bin" \
    >/dev/null 2>&1
check "backup of a cache's database without a master key" \
    grep -q '"keys":-1,.*"master_key_id":null' <("$veritee" backup --db "sqlite:$tmp/cache.db" --out "$tmp/cache-b.db")
check "... restores without one" grep -q '"restored":".*cache-r.db","master_key_id":null' \
    <(env -u VERITEE_MASTER_KEY "$veritee" restore --backup "$tmp/cache-b.db" --db "sqlite:$tmp/cache-r.db")
check "... with its bundle-signing key" [ "$(sqlite3 "$tmp/cache-r.db" "SELECT value FROM vt_meta WHERE name = 'bundle_key'")" = "$(sqlite3 "$tmp/cache.db" "SELECT value FROM vt_meta WHERE name = 'bundle_key'")" ]

# ---- the wrong master key, or none ----
refused "restore with a wrong master key names both key ids" 2 \
    "master key given \(id $wrong_id\).*records master key id $mk_id" \
    "$veritee" restore --backup "$tmp/b1.db" --db "sqlite:$tmp/w.db" --master-key-file "$tmp/wrong.key"
check "... says where the key came from" grep -q "came from --master-key-file $tmp/wrong.key (id $wrong_id)" "$tmp/err"
check "... and that nothing was written" grep -q "nothing was written to $tmp/w.db" "$tmp/err"
check "... and nothing was" [ ! -e "$tmp/w.db" ]
refused "restore --check with a wrong master key" 2 "records master key id $mk_id" \
    "$veritee" restore --check --backup "$tmp/b1.db" --master-key-file "$tmp/wrong.key"
refused "restore without a master key names the key needed" 2 \
    "no master key given, and .*b1.db holds values sealed under master key id $mk_id" \
    env -u VERITEE_MASTER_KEY "$veritee" restore --backup "$tmp/b1.db" --db "sqlite:$tmp/w.db"
refused "a malformed master key" 2 "64 hex characters" \
    "$veritee" restore --backup "$tmp/b1.db" --db "sqlite:$tmp/w.db" --master-key-file "$tmp/b1.json"
refused "the restored database refuses a wrong key at start" 2 "records master key id $mk_id" \
    "$veritee" broker serve --db "sqlite:$tmp/r1.db" --master-key-file "$tmp/wrong.key" --listen 127.0.0.1:0
refused "veritee serve too (the cache opens first: its sealed bundle key)" 2 \
    "bundle-signing key: the database records master key id $mk_id" \
    "$veritee" serve --db "sqlite:$tmp/r1.db" --master-key-file "$tmp/wrong.key" --listen 127.0.0.1:0 --mode offline

# a master key rotated since the backup: the backup still needs the old key
cp "$mk" "$tmp/old.key"
"$veritee" broker master-key >"$tmp/new.key"
new_id=$("$veritee" broker master-key-id --master-key-file "$tmp/new.key" | sed -E 's/.*"master_key_id":"([0-9a-f]+)".*/\1/')
"$veritee" broker rewrap --db "$db" --master-key-file "$mk" --new-master-key-file "$tmp/new.key" >/dev/null
check "after rewrap the database records the new key's id" \
    [ "$(sqlite3 "$tmp/live.db" "SELECT value FROM vt_meta WHERE name = 'master_key_id'")" = "$new_id" ]
check "a backup after the rewrap needs the new key" \
    grep -q "\"master_key_id\":\"$new_id\"" <("$veritee" backup --db "$db" --out "$tmp/b2.db")
refused "a backup from before the rewrap refuses the new key, naming the old one" 2 \
    "master key given \(id $new_id\).*records master key id $mk_id" \
    "$veritee" restore --check --backup "$tmp/b1.db" --master-key-file "$tmp/new.key"
check "... and opens with the old one" grep -q '"checked":' \
    <("$veritee" restore --check --backup "$tmp/b1.db" --master-key-file "$tmp/old.key")
check "the backup after the rewrap opens with the new key" grep -q '"checked":' \
    <("$veritee" restore --check --backup "$tmp/b2.db" --master-key-file "$tmp/new.key")

# ---- backup: refusals ----
printf 'not a database at all, but long enough to be read as one; %0500d\n' 0 >"$tmp/text.db"
sqlite3 "$tmp/other.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1)'
refused "backup without --out" 2 "--out FILE is required" "$veritee" backup --db "$db"
refused "backup of a PostgreSQL URL points to pg_dump" 2 "pg_dump -Fc" \
    "$veritee" backup --db postgres://veritee@127.0.0.1:1/veritee --out "$tmp/x.db"
refused "backup of a missing database" 2 "backup.db: .*nothere.db: no such file" \
    "$veritee" backup --db "sqlite:$tmp/nothere.db" --out "$tmp/x.db"
: >"$tmp/empty-src.db"
refused "backup of an empty file" 2 "backup.db: .* is empty: not a veritee database" \
    "$veritee" backup --db "$tmp/empty-src.db" --out "$tmp/x.db"
refused "backup of a file that is not SQLite" 2 "backup.db: .*text.db is not an SQLite database" \
    "$veritee" backup --db "$tmp/text.db" --out "$tmp/x.db"
refused "backup of an SQLite database that is not veritee's" 2 "holds no veritee tables" \
    "$veritee" backup --db "$tmp/other.db" --out "$tmp/x.db"
refused "backup over an existing file" 2 "b1.db exists: a backup never overwrites a file" \
    "$veritee" backup --db "$db" --out "$tmp/b1.db"
: >"$tmp/x.db.partial"
refused "backup beside a left-over .partial" 2 "x.db.partial exists: an interrupted backup" \
    "$veritee" backup --db "$db" --out "$tmp/x.db"
check "... which is left alone, and no x.db made" bash -c "[ -e $tmp/x.db.partial ] && [ ! -e $tmp/x.db ]"
refused "backup: an unknown option" 2 "unrecognized option" "$veritee" backup --db "$db" --out "$tmp/y.db" --bogus
refused "backup: a stray argument" 2 "unexpected argument" "$veritee" backup --db "$db" --out "$tmp/y.db" extra
refused "backup: a --config that cannot be read" 2 "--config .*nothere.conf" \
    "$veritee" backup --config "$tmp/nothere.conf" --out "$tmp/y.db"
refused "restore: an unknown option" 2 "unrecognized option" \
    "$veritee" restore --backup "$tmp/b1.db" --db "$tmp/y.db" --out x
check "backup: no file made by the refusals" bash -c "[ ! -e $tmp/x.db ] && [ ! -e $tmp/y.db ]"

# ---- restore: refusals of the backup ----
r() { "$veritee" restore --db "sqlite:$tmp/t.db" --master-key-file "$tmp/old.key" "$@"; }
refused "restore without --backup" 2 "--backup FILE is required" "$veritee" restore --db "sqlite:$tmp/t.db"
refused "restore without --db" 2 "--db URL is required \(the empty target\)" \
    "$veritee" restore --backup "$tmp/b1.db"
refused "restore into PostgreSQL points to pg_restore" 2 "pg_restore .* --check --db URL" \
    "$veritee" restore --backup "$tmp/b1.db" --db postgres://veritee@127.0.0.1:1/veritee
refused "restore of a missing backup" 2 "backup.file: .*nothere.db: no such file" r --backup "$tmp/nothere.db"
refused "restore of a file that is not SQLite" 2 "backup.file: .*is not an SQLite database" r --backup "$tmp/text.db"
refused "restore of a database that is not veritee's" 2 "holds no veritee tables" r --backup "$tmp/other.db"
head -c 16384 "$tmp/b1.db" >"$tmp/truncated.db"
refused "restore of a truncated backup" 1 "backup.integrity" r --backup "$tmp/truncated.db"
cp "$tmp/b1.db" "$tmp/corrupt.db"
size=$(stat -c %s "$tmp/corrupt.db")
# garbage over the second half of the file: pages of tables and indexes
head -c $((size / 2)) /dev/urandom | dd of="$tmp/corrupt.db" bs=1 seek=$((size / 2)) conv=notrunc status=none
refused "restore of a corrupt backup: PRAGMA integrity_check" 1 "backup.integrity" r --backup "$tmp/corrupt.db"
cp "$tmp/b1.db" "$tmp/index.db"
sqlite3 "$tmp/index.db" "PRAGMA writable_schema=ON; UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_vb_keys_1') WHERE name = 'sqlite_autoindex_vt_meta_1'"
refused "restore of a backup with a broken index: what PRAGMA integrity_check says" 1 \
    "backup.integrity: .*index.db fails PRAGMA integrity_check: .*(index|page)" \
    r --backup "$tmp/index.db"
cp "$tmp/b1.db" "$tmp/entry.db"
sqlite3 "$tmp/entry.db" "UPDATE vb_log SET entry = replace(entry, '\"allow\"', '\"deny\"') WHERE idx = (SELECT max(idx) FROM vb_log)"
refused "restore of a backup with an altered log entry" 1 "log.entry" r --backup "$tmp/entry.db"
cp "$tmp/b1.db" "$tmp/cp.db"
sqlite3 "$tmp/cp.db" "DELETE FROM vb_checkpoints WHERE size = (SELECT max(size) FROM vb_checkpoints)"
refused "restore of a backup that lost its last checkpoint" 1 "log.checkpoint.size" r --backup "$tmp/cp.db"
cp "$tmp/b1.db" "$tmp/dek.db"
sqlite3 "$tmp/dek.db" "UPDATE vb_key_versions SET dek = (SELECT dek FROM vb_key_versions) || x'00'"
refused "restore of a backup with an altered data key" 1 "key.dek: key pepper version 1" r --backup "$tmp/dek.db"
cp "$tmp/b1.db" "$tmp/sec.db"
sqlite3 "$tmp/sec.db" "UPDATE vb_key_versions SET secret = zeroblob(60)"
refused "restore of a backup with an altered secret" 1 "key.secret: key pepper version 1" r --backup "$tmp/sec.db"
refused "restore with another log origin names --issuer" 1 "log.checkpoint.origin: .*give the service's --issuer" \
    r --backup "$tmp/b1.db" --issuer other
check "no refused restore wrote the target or left a work directory" \
    bash -c "[ ! -e $tmp/t.db ] && ! ls -A $tmp | grep -q veritee-restore"

# ---- restore: refusals of the target ----
refused "restore into a database that is not empty" 2 "restore.target: .*r1.db is not empty: it holds [0-9]+ tables \((kv_key_versions|vb_ca), " \
    "$veritee" restore --backup "$tmp/b1.db" --db "sqlite:$tmp/r1.db" --master-key-file "$tmp/old.key"
refused "restore into a file that is not SQLite" 2 "restore.target: .*text.db exists and is not an SQLite database" \
    "$veritee" restore --backup "$tmp/b1.db" --db "$tmp/text.db" --master-key-file "$tmp/old.key"
: >"$tmp/stale.db-wal"
refused "restore beside a stale -wal" 2 "stale.db does not exist but .*stale.db-wal does" \
    "$veritee" restore --backup "$tmp/b1.db" --db "$tmp/stale.db" --master-key-file "$tmp/old.key"
refused "restore into a missing directory" 2 "restore.work: cannot create a work directory" \
    "$veritee" restore --backup "$tmp/b1.db" --db "$tmp/no/such/dir/t.db" --master-key-file "$tmp/old.key"
refused "restore --check of a database in place, with the wrong key" 2 "records master key id $mk_id" \
    "$veritee" restore --check --db "sqlite:$tmp/r1.db" --master-key-file "$tmp/wrong.key"
refused "restore --check of a database that does not exist" 2 "nothere.db: no such file" \
    "$veritee" restore --check --db "sqlite:$tmp/nothere.db" --master-key-file "$tmp/old.key"
check "... and it was not created" [ ! -e "$tmp/nothere.db" ]
refused "restore --check of a database that is not veritee's" 2 "holds no veritee tables" \
    "$veritee" restore --check --db "sqlite:$tmp/other.db" --master-key-file "$tmp/old.key"
check "restore --check of a database in place" grep -q '"checked":".*r1.db"' \
    <("$veritee" restore --check --db "sqlite:$tmp/r1.db" --master-key-file "$tmp/old.key")
finish
