#!/usr/bin/env bash
# Install the built packages in a throwaway root and follow their life: first installation,
# the service's first start as the user veritee, a build against libveritee-dev, reinstallation,
# removal, purge and the installations after a purge.
#
# The root is the machine's own / seen through overlayfs, every write going to a tmpfs, in a
# private mount namespace: deb.sh starts this script with `unshare --mount --propagation
# private`, so every mount below, and everything the maintainer scripts write, vanishes with it.
# The chroot gets its own /run and /tmp: no systemd, nscd or other daemon of the machine is
# reachable from it, and debhelper's snippets start nothing without /run/systemd/system.
# Usage (as root, in a new mount namespace): deb_root.sh WORK_DIR VERSION ARCH SOURCE_DIR
# Prints "root: N passed, N failed"; exit 77 (and a SKIP line) when it cannot run here.
set -uo pipefail
work=$1 version=$2 arch=$3 src=$4
passes=0 fails=0
check() {
    local what=$1
    shift
    if "$@"; then
        passes=$((passes + 1))
    else
        echo "FAIL $what"
        fails=$((fails + 1))
        return 1
    fi
}
skip() {
    echo "SKIP: $1"
    exit 77
}
not() { ! "$@"; }
quiet() { "$@" >/dev/null 2>&1; }

# Only in a mount namespace of its own, not its caller's: the mounts below would outlive the
# test there.
ns=$(readlink /proc/self/ns/mnt) parent_ns=$(readlink "/proc/$PPID/ns/mnt")
[ -n "$ns" ] && [ -n "$parent_ns" ] && [ "$ns" != "$parent_ns" ] ||
    skip "deb_root.sh runs in a new mount namespace only (unshare --mount --propagation private)"

ovl="$work/overlay"
root="$ovl/root"
mkdir -p "$ovl"
mount -t tmpfs -o mode=0755 veritee-deb-test "$ovl" || skip "cannot mount a tmpfs"
mkdir -p "$ovl/upper" "$ovl/work" "$root"
mount -t overlay veritee-deb-test -o "lowerdir=/,upperdir=$ovl/upper,workdir=$ovl/work" "$root" ||
    skip "cannot mount an overlay over / (no overlayfs, or not allowed in this container)"
mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" &&
    mount -t tmpfs tmpfs "$root/run" && mount -t tmpfs tmpfs "$root/tmp" ||
    skip "cannot mount /proc, /dev, /run or /tmp in the overlay"

inroot() {
    chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
as() { # as USER COMMAND...: with USER's groups only
    local user=$1
    shift
    inroot setpriv --reuid="$user" --regid="$(inroot id -g "$user")" --init-groups "$@"
}
if inroot dpkg-query -W -f='${Status}' veritee 2>/dev/null | grep -q installed ||
    inroot getent passwd veritee >/dev/null; then
    skip "veritee is installed on this machine (or a user veritee exists): no first installation to test"
fi
mkdir -p "$root/tmp/debs"
for p in veritee libveritee0 libveritee-dev; do
    cp "$work/${p}_${version}_${arch}.deb" "$root/tmp/debs/"
done
debs() { for p in "$@"; do echo "/tmp/debs/${p}_${version}_${arch}.deb"; done; }
# man-db's trigger would re-index every manual page of the machine: not what is tested.
echo 'man-db man-db/auto-update boolean false' | inroot debconf-set-selections

stat_of() { inroot stat -c '%U:%G %a' "$1" 2>&1; }
key_hash() { inroot sha256sum /etc/veritee/master.key 2>/dev/null | cut -d' ' -f1; }
overrides() { inroot dpkg-statoverride --list 2>/dev/null | grep -E ' /(etc|var/lib)/veritee$' | sort; }

# --- first installation ---------------------------------------------------------------------
inroot dpkg -i $(debs libveritee0 veritee libveritee-dev) >"$work/root-install.log" 2>&1
check "dpkg -i of the three packages" [ $? -eq 0 ] || tail -n 30 "$work/root-install.log"
pw=$(inroot getent passwd veritee)
IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
check "the system user veritee ($pw)" [ -n "$pw" -a "${uid:-1000}" -lt 1000 ]
check "its home is /var/lib/veritee, no login shell" \
    [ "$home" = /var/lib/veritee -a "$shell" = /usr/sbin/nologin ]
check "the group veritee" quiet inroot getent group veritee
check "/etc/veritee is root:veritee 0750 ($(stat_of /etc/veritee))" \
    [ "$(stat_of /etc/veritee)" = "root:veritee 750" ]
check "/var/lib/veritee is veritee:veritee 0700 ($(stat_of /var/lib/veritee))" \
    [ "$(stat_of /var/lib/veritee)" = "veritee:veritee 700" ]
check "/etc/veritee/master.key is root:veritee 0440 ($(stat_of /etc/veritee/master.key))" \
    [ "$(stat_of /etc/veritee/master.key)" = "root:veritee 440" ]
key=$(inroot cat /etc/veritee/master.key)
check "the master key is 64 hex characters" grep -qxE '[0-9a-f]{64}' <<<"$key"
check "the master key is not printed" not grep -qF "$key" "$work/root-install.log"
check "the installation says where the key is and to keep it" \
    grep -q 'generated the master key /etc/veritee/master.key' "$work/root-install.log"
check "no temporary key file is left" not compgen -G "$root/etc/veritee/.master*"
check "the directories' modes are dpkg-statoverride entries" \
    [ "$(overrides | wc -l)" -eq 2 ]
check "veritee.service is not enabled" \
    [ ! -e "$root/etc/systemd/system/multi-user.target.wants/veritee.service" ]
check "veritee-cache-refresh.timer is not enabled" \
    [ ! -e "$root/etc/systemd/system/timers.target.wants/veritee-cache-refresh.timer" ]
check "nobody else reads the master key" not quiet as nobody cat /etc/veritee/master.key
check "nobody else lists /var/lib/veritee" not quiet as nobody ls /var/lib/veritee
check "the service cannot write into /etc/veritee" not quiet as veritee touch /etc/veritee/x
for u in veritee.service veritee-cache-refresh.service veritee-cache-refresh.timer; do
    out=$(inroot systemd-analyze verify "/lib/systemd/system/$u" 2>&1)
    check "systemd-analyze verify $u${out:+: $out}" [ -z "$out" ]
done
check "man veritee renders" grep -q FILES <<<"$(inroot man -P cat veritee 2>&1)"

# --- the first start, as the unit runs it (without systemd: there is none in here) --------------
out=$(as veritee veritee broker token --config /etc/veritee/veritee.conf 2>&1)
check "the user veritee creates the first admin token with the packaged config ($out)" \
    [ $? -eq 0 -a -n "$out" ]
check "the database is /var/lib/veritee/veritee.db, the service's" \
    [ "$(stat_of /var/lib/veritee/veritee.db | cut -d' ' -f1)" = veritee:veritee ]
inroot install -d -o root -g veritee -m 0750 /etc/veritee/tls
inroot openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -keyout /etc/veritee/tls/key.pem -out /etc/veritee/tls/cert.pem \
    >/dev/null 2>&1
inroot chgrp veritee /etc/veritee/tls/key.pem && inroot chmod 0640 /etc/veritee/tls/key.pem
# The packaged config as the unit uses it, on a free loopback port instead of 0.0.0.0:8443.
as veritee veritee serve --config /etc/veritee/veritee.conf --listen 127.0.0.1:0 \
    --port-file /var/lib/veritee/port >"$work/root-serve.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null' EXIT
for _ in $(seq 100); do
    [ -s "$root/var/lib/veritee/port" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
port=$(cat "$root/var/lib/veritee/port" 2>/dev/null)
code=$(inroot curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:${port:-1}/healthz")
check "veritee serve --config /etc/veritee/veritee.conf answers /healthz over TLS ($code)" \
    [ "$code" = 200 ] || cat "$work/root-serve.log"
kill $pid 2>/dev/null
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null

# --- libveritee-dev: a program built with pkg-config alone --------------------------------------
cp "$src/tests/pkgconfig/consumer.c" "$root/tmp/"
out=$(inroot sh -c 'cc -o /tmp/consumer /tmp/consumer.c $(pkg-config --cflags --libs veritee) &&
    /tmp/consumer' 2>&1)
check "a program builds with pkg-config --cflags --libs veritee and runs ($out)" \
    grep -q expired <<<"$out"
lib=$(inroot ldd /tmp/consumer | grep -o 'libveritee\.so\.0 => [^ ]*')
check "it uses the packaged shared library ($lib)" \
    grep -qE '=> /(usr/)?lib/[^/]+/libveritee\.so\.0$' <<<"$lib"
fixtures=${VERITEE_FIXTURES:-${VT_FIXTURES:-${VT_FIXTURES_DEFAULT:-}}}
doc=$(realpath -m "$fixtures/nitro/base-nitro-validator/attestation-2024-11-30.cose")
if [ -f "$root$doc" ]; then
    out=$(inroot /tmp/consumer "$doc" 2024-11-30T16:30:00Z 2>&1)
    check "it verifies a real Nitro document ($out)" \
        grep -q "verified: nitro-document UpToDate" <<<"$out"
fi

# --- reinstallation (postinst configure with the old version) ---------------------------------
hash=$(key_hash)
inroot dpkg -i $(debs veritee) >"$work/root-reinstall.log" 2>&1
check "dpkg -i again" [ $? -eq 0 ] || tail -n 20 "$work/root-reinstall.log"
check "the reinstallation keeps the master key" [ "$(key_hash)" = "$hash" ]
check "... and the database" [ -f "$root/var/lib/veritee/veritee.db" ]
check "... and generates nothing" not grep -q generated "$work/root-reinstall.log"

# --- removal and purge ------------------------------------------------------------------------
inroot dpkg -r libveritee-dev veritee >"$work/root-remove.log" 2>&1
check "dpkg -r" [ $? -eq 0 ] || tail -n 20 "$work/root-remove.log"
check "removal removes the command" [ ! -e "$root/usr/bin/veritee" ]
check "removal keeps the config" [ -f "$root/etc/veritee/veritee.conf" ]
check "removal keeps the key" [ "$(key_hash)" = "$hash" ]
check "removal keeps the database" [ -f "$root/var/lib/veritee/veritee.db" ]
inroot dpkg -P veritee >"$work/root-purge.log" 2>&1
check "dpkg -P" [ $? -eq 0 ] || tail -n 20 "$work/root-purge.log"
check "purge removes the conffile" [ ! -e "$root/etc/veritee/veritee.conf" ]
check "purge removes the statoverrides" [ -z "$(overrides)" ]
check "purge keeps the master key" [ "$(key_hash)" = "$hash" ]
check "purge keeps the database" [ -f "$root/var/lib/veritee/veritee.db" ]
check "purge says what it kept and how to destroy it" \
    grep -q 'WARNING: purge kept /etc/veritee/master.key /var/lib/veritee' "$work/root-purge.log"
check "purge keeps the user veritee" quiet inroot getent passwd veritee

# --- installation after a purge -----------------------------------------------------------------
inroot dpkg -i $(debs veritee) >"$work/root-install2.log" 2>&1
check "dpkg -i after the purge" [ $? -eq 0 ] || tail -n 20 "$work/root-install2.log"
check "it keeps the existing master key" [ "$(key_hash)" = "$hash" ]
check "... and restores the directories' owners and modes" \
    [ "$(stat_of /etc/veritee)" = "root:veritee 750" -a "$(overrides | wc -l)" -eq 2 ]
out=$(as veritee veritee broker keys --config /etc/veritee/veritee.conf 2>&1)
check "the kept database opens with the kept key ($out)" [ $? -eq 0 ]

inroot dpkg -P veritee >/dev/null 2>&1
inroot rm -f /etc/veritee/master.key
inroot dpkg -i $(debs veritee) >"$work/root-install3.log" 2>&1
check "a database without its key: dpkg -i succeeds" [ $? -eq 0 ] ||
    tail -n 20 "$work/root-install3.log"
check "... generates no key next to it" [ ! -e "$root/etc/veritee/master.key" ]
check "... and says so" grep -q 'no new key was generated' "$work/root-install3.log"

inroot dpkg -P veritee >/dev/null 2>&1
inroot rm -rf /var/lib/veritee
inroot dpkg -i $(debs veritee) >"$work/root-install4.log" 2>&1
check "after everything is destroyed: dpkg -i" [ $? -eq 0 ] || tail -n 20 "$work/root-install4.log"
new=$(key_hash)
check "... generates a new key" [ -n "$new" -a "$new" != "$hash" ]

umount -R "$root" 2>/dev/null
umount "$ovl" 2>/dev/null
echo "root: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
