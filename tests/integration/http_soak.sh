#!/usr/bin/env bash
# A short soak of `veritee serve` on loopback (bench/http_soak.py --quick --check): slow clients
# from 127.0.0.2 while 127.0.0.1 is served, the head deadline closing them, and unfinished 7 MiB
# uploads held within --max-body-memory while 127.0.0.1 is served. Usage: http_soak.sh VERITEE
set -uo pipefail
veritee=${1:?usage: http_soak.sh VERITEE}
here=$(cd "$(dirname "$0")" && pwd)
out=$(python3 "$here/../../bench/http_soak.py" "$veritee" --quick --check)
status=$?
echo "$out"
passes=$(grep -c '^ok ' <<<"$out")
fails=$(grep -c '^FAIL ' <<<"$out")
[ "$status" -eq 0 ] || [ "$fails" -gt 0 ] || fails=1
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
