#!/usr/bin/env bash
# The password vault example against a real broker, with simulated TDX evidence: the vault
# attests at start and gets its pepper; register, login, wrong password, change password, a
# tampered record, a restart that attests again, and a vault whose measurement the key's policy
# does not approve: no pepper, and it refuses to serve. Then over attested TLS: the vault serves
# HTTPS with a certificate from the broker's CA or one carrying its evidence, its client
# (veritee-vault register|login) logs in through libveritee's verify callback, and refuses to
# send the password to a server running unapproved code (another simulated measurement) or
# whose certificate it cannot verify. Passwords never appear in any log.
# Usage: vault.sh VERITEE
set -uo pipefail
veritee=${1:?usage: vault.sh VERITEE}
vault="$(dirname "$veritee")/examples/password-vault/veritee-vault"
here=$(cd "$(dirname "$0")" && pwd)
support="$here/../support"
tmp=$(mktemp -d)
source "$support/cache_lib.sh"
trap cleanup EXIT
[ -x "$vault" ] || { bad "veritee-vault not built at $vault"; finish; exit 1; }

db="sqlite:$tmp/broker.db"
mk="$tmp/master.key"
"$veritee" broker master-key >"$mk"
b() { "$veritee" broker "$@" --db "$db" --master-key-file "$mk"; }
"$veritee" client sim-export --backend sim:tdx --sim-dir "$tmp/sim" --out "$tmp/export"
check "the simulator's root and collateral exported" test -s "$tmp/export/anchors/tdx.pem"
pf="$tmp/broker.port"
"$veritee" broker serve --db "$db" --master-key-file "$mk" --collateral "$tmp/export/collateral" \
    --trust-anchor "$tmp/export/anchors/tdx.pem" --listen 127.0.0.1:0 --port-file "$pf" \
    2>"$tmp/broker.log" &
pids+=($!)
url="http://127.0.0.1:$(wait_port "$pf")"
# The approved measurement: what this (simulated) TD reports.
mrtd=$("$veritee" client attest --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["claims"]["tdx.mrtd"])')
check "the TD attests (MRTD ${mrtd:0:16}...)" grep -Eq '^[0-9a-f]{96}$' <<<"$mrtd"
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%s"}}' "$mrtd" >"$tmp/ok.json"
printf '{"version":1,"rules":{"claim":"tdx.mrtd","equals":"%096d"}}' 0 >"$tmp/other.json"
b key-put --name vault-pepper --generate 32 --policy "$tmp/ok.json" >/dev/null
b key-put --name vault-pepper-other --generate 32 --policy "$tmp/other.json" >/dev/null

# veritee client: release to a file, release with evidence directly, --help, a usage error
check "veritee client --help" bash -c "$veritee client --help | grep -q Usage"
check "veritee client without --url: usage error (2)" bash -c "$veritee client release --backend sim:tdx --key x 2>/dev/null; [ \$? = 2 ]"
check "veritee client release --out" grep -q '"ok":true,"key":"vault-pepper","version":1' \
    <("$veritee" client release --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" --key vault-pepper --out "$tmp/pepper.bin")
check "the released pepper is 32 bytes" [ "$(stat -c %s "$tmp/pepper.bin")" = 32 ]
check "veritee client release --direct (evidence in the release)" grep -q '"secret_b64":"' \
    <("$veritee" client release --url "$url" --backend sim:tdx --sim-dir "$tmp/sim" --key vault-pepper --direct --key-type RSA-2048)
check "the same pepper both ways" bash -c "$veritee client release --url $url --backend sim:tdx --sim-dir $tmp/sim --key vault-pepper | python3 -c 'import json,sys,base64; sys.exit(base64.b64decode(json.load(sys.stdin)[\"secret_b64\"]) != open(\"$tmp/pepper.bin\",\"rb\").read())'"

start_vault() { # start_vault KEY: sets VURL, VPID
    local vpf="$tmp/vault.$RANDOM.port"
    "$vault" --broker "$url" --key "$1" --backend sim:tdx --sim-dir "$tmp/sim" \
        --db "sqlite:$tmp/users.db" --listen 127.0.0.1:0 --port-file "$vpf" \
        --argon-memory 4096 --argon-time 1 2>>"$tmp/vault.log" &
    VPID=$!
    pids+=($VPID)
    VURL="http://127.0.0.1:$(wait_port "$vpf")"
}
post() { # post PATH JSON: prints the status
    curl -s -o "$tmp/body" -w '%{http_code}' -X POST --data "$2" "$VURL$1"
}
start_vault vault-pepper
check "the vault attested and serves" bash -c "curl -sf $VURL/healthz | grep -q ok"
check "register alice (201)" [ "$(post /register '{"user":"alice","password":"correct horse"}')" = 201 ]
check "register bob (201)" [ "$(post /register '{"user":"bob","password":"battery staple"}')" = 201 ]
check "register alice again (409)" [ "$(post /register '{"user":"alice","password":"x"}')" = 409 ]
check "login alice (200)" [ "$(post /login '{"user":"alice","password":"correct horse"}')" = 200 ]
check "wrong password (401)" [ "$(post /login '{"user":"alice","password":"correct horsf"}')" = 401 ]
check "unknown user (401, same answer)" bash -c "[ \"\$(curl -s -o $tmp/b2 -w '%{http_code}' -X POST --data '{\"user\":\"carol\",\"password\":\"x\"}' $VURL/login)\" = 401 ] && cmp -s $tmp/b2 <(curl -s -X POST --data '{\"user\":\"alice\",\"password\":\"nope\"}' $VURL/login)"
check "change password (200)" [ "$(post /change-password '{"user":"bob","password":"battery staple","new_password":"staple battery"}')" = 200 ]
check "the old password no longer works" [ "$(post /login '{"user":"bob","password":"battery staple"}')" = 401 ]
check "the new one does" [ "$(post /login '{"user":"bob","password":"staple battery"}')" = 200 ]
check "change with a wrong password (401)" [ "$(post /change-password '{"user":"bob","password":"nope","new_password":"x"}')" = 401 ]
check "a missing field (400)" [ "$(post /login '{"user":"bob"}')" = 400 ]
check "no password or pepper in the database" bash -c "! grep -aq 'correct horse' $tmp/users.db*"
# a tampered record: one byte of alice's tag changed
sqlite3 "$tmp/users.db" "UPDATE users SET tag = randomblob(32) WHERE name = 'alice'"
check "a tampered record fails (401)" [ "$(post /login '{"user":"alice","password":"correct horse"}')" = 401 ]
# restart: the pepper is attested for again, and the stored users still work
stop_pid "$VPID"
start_vault vault-pepper
check "after a restart (re-attested), bob logs in" [ "$(post /login '{"user":"bob","password":"staple battery"}')" = 200 ]
check "two attestations of the vault in the broker's log" \
    [ "$(b log --limit 1000 | grep -o '"key":"vault-pepper","key_version":1' | wc -l)" -ge 2 ]
stop_pid "$VPID"
# a measurement the key's policy does not approve: no pepper, no service
"$vault" --broker "$url" --key vault-pepper-other --backend sim:tdx --sim-dir "$tmp/sim" \
    --db "sqlite:$tmp/users.db" --listen 127.0.0.1:0 --port-file "$tmp/never.port" \
    --argon-memory 4096 --argon-time 1 2>"$tmp/refused.log"
rc=$?
check "unapproved measurement: the vault exits 1 ($rc)" [ "$rc" = 1 ]
check "unapproved measurement: it says the broker refused (403 release-policy)" \
    grep -q 'HTTP 403 release-policy' "$tmp/refused.log"
check "unapproved measurement: it never listened" [ ! -e "$tmp/never.port" ]

# ---- the vault over attested TLS (docs/attested-tls.md, "The vault over attested TLS") ----
# The client side (veritee-vault register|login) sends a password only to a server whose
# certificate satisfies the policy naming the approved MRTD. "Unapproved code" is the same
# simulated platform reporting another measurement (a copy of the simulator's directory with
# tdx/measurement set), run with a pepper key whose policy lets any code have it (a stand-in for
# a server that got its secrets some other way: the client must not rely on the server failing).
curl -sf "$url/v1/ca" >"$tmp/broker-ca.pem"
b cert-profile --name vault --policy "$tmp/ok.json" --dns localhost
b cert-profile --name anything --dns localhost
b key-put --name rogue-pepper --generate 32 >/dev/null
cp -r "$tmp/sim" "$tmp/sim-rogue"
printf '%096d\n' 7 | tr 0 a >"$tmp/sim-rogue/tdx/measurement"
start_tls() { # start_tls SIM_DIR KEY MODE [PROFILE]: sets TURL, TPID
    local vpf="$tmp/tls.$RANDOM.port"
    "$vault" --broker "$url" --key "$2" --backend sim:tdx --sim-dir "$1" \
        --db "sqlite:$tmp/tls-users.db" --listen 127.0.0.1:0 --port-file "$vpf" \
        --argon-memory 4096 --argon-time 1 --tls "$3" ${4:+--cert-profile "$4"} 2>>"$tmp/vault-tls.log" &
    TPID=$!
    pids+=($TPID)
    TURL="https://localhost:$(wait_port "$vpf")"
}
vc() { # vc register|login POLICY [extra options]: the vault's client with the password in VAULT_PASSWORD
    local sub=$1 pol=$2
    shift 2
    VAULT_PASSWORD="$pw" "$vault" "$sub" --url "$TURL" --user dave --policy "$pol" "$@"
}
evid=(--trust-anchor "$tmp/export/anchors/tdx.pem" --collateral "$tmp/export/collateral")
pw='tls horse battery'

# a certificate from the broker's CA
start_tls "$tmp/sim" vault-pepper broker vault
check "TLS (broker certificate): register through the verified connection (0)" \
    bash -c "$(declare -p pw TURL vault); VAULT_PASSWORD=\"\$pw\" \$vault register --url \$TURL --user dave --policy $tmp/ok.json --broker-ca $tmp/broker-ca.pem >$tmp/c.out 2>$tmp/c.err"
check "... the client said the server is attested and satisfies the policy" grep -q 'is attested (tdx) and satisfies' "$tmp/c.err"
vc login "$tmp/ok.json" --broker-ca "$tmp/broker-ca.pem" >"$tmp/c.out" 2>"$tmp/c.err"
check "TLS (broker certificate): login (0)" [ $? = 0 ]
check "... the vault answered logged in" grep -q 'logged in' "$tmp/c.out"
pw='wrong' vc login "$tmp/ok.json" --broker-ca "$tmp/broker-ca.pem" >"$tmp/c.out" 2>"$tmp/c.err"
check "TLS (broker certificate): a wrong password is refused by the vault (1)" [ $? = 1 ]
vc login "$tmp/other.json" --broker-ca "$tmp/broker-ca.pem" >"$tmp/c.out" 2>"$tmp/c.err"
check "TLS: a policy naming another MRTD: refused before sending (3)" [ $? = 3 ]
check "... saying the password was not sent, and why (the policy, tdx.mrtd)" \
    bash -c "grep -q 'password was not sent' $tmp/c.err && grep -q 'tdx.mrtd' $tmp/c.err"
vc login "$tmp/ok.json" >"$tmp/c.out" 2>"$tmp/c.err"
check "TLS: a broker certificate without --broker-ca: refused (3, untrusted)" \
    bash -c "[ $? = 3 ] && grep -qi 'untrusted\|broker' $tmp/c.err"
TURL=${TURL/localhost/127.0.0.1}
vc login "$tmp/ok.json" --broker-ca "$tmp/broker-ca.pem" >"$tmp/c.out" 2>"$tmp/c.err"
check "TLS: a certificate not for the host asked (127.0.0.1, the profile names localhost): refused (3)" \
    bash -c "[ $? = 3 ] && grep -q 'not for the name 127.0.0.1' $tmp/c.err"
stop_pid "$TPID"

# a certificate carrying the TD's evidence
start_tls "$tmp/sim" vault-pepper evidence
vc login "$tmp/ok.json" "${evid[@]}" >"$tmp/c.out" 2>"$tmp/c.err"
check "TLS (evidence certificate): login through the verified connection (0)" [ $? = 0 ]
check "... the vault answered logged in" grep -q 'logged in' "$tmp/c.out"
vc login "$tmp/ok.json" >"$tmp/c.out" 2>"$tmp/c.err"
check "TLS (evidence certificate) without the simulator's root: refused (3)" [ $? = 3 ]
stop_pid "$TPID"

# unapproved code: another measurement on the same platform
start_tls "$tmp/sim-rogue" rogue-pepper evidence
vc login "$tmp/ok.json" "${evid[@]}" >"$tmp/c.out" 2>"$tmp/c.err"
check "unapproved code (evidence certificate): the client refuses (3)" [ $? = 3 ]
check "... naming tdx.mrtd; the password was not sent" \
    bash -c "grep -q 'tdx.mrtd' $tmp/c.err && grep -q 'password was not sent' $tmp/c.err"
stop_pid "$TPID"
start_tls "$tmp/sim-rogue" rogue-pepper broker anything
vc login "$tmp/ok.json" --broker-ca "$tmp/broker-ca.pem" >"$tmp/c.out" 2>"$tmp/c.err"
check "unapproved code (a broker certificate of a lax profile): the client refuses (3)" [ $? = 3 ]
check "... naming tdx.mrtd" grep -q 'tdx.mrtd' "$tmp/c.err"
stop_pid "$TPID"
"$vault" --broker "$url" --key rogue-pepper --backend sim:tdx --sim-dir "$tmp/sim-rogue" \
    --db "sqlite:$tmp/tls-users.db" --listen 127.0.0.1:0 --port-file "$tmp/never2.port" \
    --argon-memory 4096 --argon-time 1 --tls broker --cert-profile vault 2>"$tmp/rogue.log"
rc=$?
check "unapproved code asking for the vault profile's certificate: the broker refuses, it exits 1 ($rc)" \
    bash -c "[ $rc = 1 ] && grep -q 'HTTP 403 cert-policy' $tmp/rogue.log"
check "the vault's server log shows the refused handshakes" grep -q 'TLS handshake failed' "$tmp/vault-tls.log"
check "no password in any log" bash -c "! grep -aq -e 'correct horse' -e 'staple battery' -e 'tls horse' $tmp/*.log"
check "the broker's audit log verifies" grep -q '"verified":true' <("$veritee" audit verify --db "$db")
finish
