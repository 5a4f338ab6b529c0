#!/usr/bin/env bash
# The Debian packages (debian/): build them with `dpkg-buildpackage -b -us -uc` in a copy of the
# source tree (the tree itself is left untouched), check them with lintian (no error or warning
# that an override does not explain with a comment), check what each package holds and the
# maintainer scripts' syntax, then, as root, install, reinstall, remove, purge and reinstall them
# in a throwaway copy-on-write root (tests/packaging/deb_root.sh: overlayfs over / in a private
# mount namespace, nothing reaches the machine itself).
# Usage: deb.sh SOURCE_DIR WORK_DIR     (WORK_DIR is emptied first; the .debs and logs stay there)
set -uo pipefail
src=$(cd "${1:?usage: deb.sh SOURCE_DIR WORK_DIR}" && pwd)
work=${2:?usage: deb.sh SOURCE_DIR WORK_DIR}
here=$(cd "$(dirname "$0")" && pwd)
passes=0 fails=0
check() {
    local what=$1
    shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL $what"; fails=$((fails + 1)); fi
}
not() { ! "$@"; }
finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" -eq 0 ]
    exit
}
skip_or_fail() { # the rest is not possible here: skipped on a developer's machine, fails in CI
    if [ "${CI:-}" = true ]; then
        echo "FAIL (CI): $1"
        fails=$((fails + 1))
    else
        echo "SKIP: $1"
    fi
    finish
}

missing=""
for tool in dpkg-buildpackage dpkg-parsechangelog dpkg-architecture dh lintian help2man; do
    command -v "$tool" >/dev/null || missing="$missing $tool"
done
[ -z "$missing" ] || skip_or_fail "missing$missing (scripts/install-deps.sh installs them)"

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
upstream=${version%-*}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
cmake_version=$(sed -n 's/^project(veritee VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
check "debian/changelog's upstream version $upstream is CMakeLists.txt's $cmake_version" \
    [ "$upstream" = "$cmake_version" ]

rm -rf "$work"
tree="$work/veritee-$upstream"
mkdir -p "$tree"
# The files git knows, plus new ones not ignored: what a commit of the tree would hold.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z -co --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -C "$tree" -xf -
else
    tar -C "$src" --exclude=./build --exclude='./build-*' --exclude=./debian/build -cf - . |
        tar -C "$tree" -xf -
fi
check "a copy of the source tree" [ -f "$tree/debian/rules" ]

# --- build ----------------------------------------------------------------------------------
start=$(date +%s)
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=${VT_DEB_JOBS:-2}" dpkg-buildpackage -b -us -uc) \
    >"$work/build.log" 2>&1
rc=$?
echo "dpkg-buildpackage: exit $rc in $(($(date +%s) - start)) s (log: $work/build.log)"
check "dpkg-buildpackage -b -us -uc" [ $rc -eq 0 ]
if [ $rc -ne 0 ]; then
    tail -n 40 "$work/build.log"
    finish
fi
# The package build does not use -Werror (Debian's flags may make a newer compiler warn);
# this test does.
warnings=$(grep -E ':[0-9]+:[0-9]+: warning:|^CMake Warning|dpkg-shlibdeps: warning' \
    "$work/build.log")
check "no compiler, CMake or dpkg-shlibdeps warning in the package build" [ -z "$warnings" ]
[ -z "$warnings" ] || echo "$warnings" | head -n 20
check "the build used dpkg-buildflags' hardening flags" \
    grep -q -- '-fstack-protector-strong.*-D_FORTIFY_SOURCE=2' "$work/build.log"

changes="$work/veritee_${version}_${arch}.changes"
deb() { echo "$work/${1}_${version}_${arch}.deb"; }
for p in veritee libveritee0 libveritee-dev; do
    check "$(basename "$(deb $p)") built" [ -f "$(deb $p)" ]
done

# --- lintian --------------------------------------------------------------------------------
# lintian leaves temporary files (mldbm-elf-*) behind: in the work directory, not in /tmp.
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"
# The verdict (lintian exits 2 on a tag of these levels that no override covers) ...
lintian --fail-on error,warning "$changes" >/dev/null 2>&1
check "lintian --fail-on error,warning" [ $? -eq 0 ]
# ... and everything, overrides with their comments and information tags, for the log. (With
# --show-overrides, lintian 2.116 would count overridden warnings for --fail-on.)
lintian --fail-on none --display-info --show-overrides --tag-display-limit 0 "$changes" \
    2>&1 | grep -v '^running with root privileges' >"$work/lintian.log"
rc=${PIPESTATUS[0]}
echo "lintian (O: overridden, N: the override's comment, I: information):"
sed 's/^/  /' "$work/lintian.log"
check "lintian runs" [ "$rc" -eq 0 ]
check "lintian: no error or warning left" not grep -qE '^[EW]: ' "$work/lintian.log"
check "lintian: no unused or mismatched override" \
    not grep -qE 'unused-override|mismatched-override' "$work/lintian.log"
# Each override is explained: the line before it (or before the overrides it heads) a comment.
unexplained=$(awk 'FNR == 1 { c = 0 } /^#/ { c = 1; next } /^[[:space:]]*$/ { c = 0; next }
    { if (!c) print FILENAME ": " $0 }' "$src"/debian/*.lintian-overrides)
check "every lintian override has a comment" [ -z "$unexplained" ]
[ -z "$unexplained" ] || echo "$unexplained"

# --- contents -------------------------------------------------------------------------------
for p in veritee libveritee0 libveritee-dev; do
    dpkg-deb -c "$(deb $p)" | awk '{ sub(/^\./, "", $6); print $6 }' >"$work/$p.list"
done
has() { grep -qxF -- "$2" "$work/$1.list"; }
extract() { dpkg-deb --fsys-tarfile "$(deb "$1")" | tar -xOf - ".$2"; }
for f in /usr/bin/veritee /etc/veritee/veritee.conf /var/lib/veritee/ \
    /lib/systemd/system/veritee.service /lib/systemd/system/veritee-cache-refresh.service \
    /lib/systemd/system/veritee-cache-refresh.timer /usr/share/man/man1/veritee.1.gz \
    /usr/share/doc/veritee/copyright /usr/share/doc/veritee/README.Debian \
    /usr/share/doc/veritee/deploy.md.gz; do
    check "veritee holds $f" has veritee "$f"
done
# A manual page for each command `veritee --help` lists (debian/gen-manpages.sh).
extract veritee /usr/bin/veritee >"$work/veritee-bin" && chmod +x "$work/veritee-bin"
commands=$("$work/veritee-bin" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' |
    grep -vxE 'version|help')
check "veritee --help lists commands" [ -n "$commands" ]
for c in $commands; do
    check "veritee holds veritee-$c(1)" has veritee "/usr/share/man/man1/veritee-$c.1.gz"
done
check "veritee holds no key" not grep -qE 'master\.key|\.pem$' "$work/veritee.list"
conffiles=$(dpkg-deb --ctrl-tarfile "$(deb veritee)" | tar -xOf - ./conffiles)
check "the one conffile is /etc/veritee/veritee.conf ($conffiles)" \
    [ "$conffiles" = /etc/veritee/veritee.conf ]
unit=$(extract veritee /lib/systemd/system/veritee.service)
check "veritee.service runs /usr/bin/veritee with /etc/veritee/veritee.conf" \
    grep -qx 'ExecStart=/usr/bin/veritee serve --config /etc/veritee/veritee.conf' <<<"$unit"
for line in User=veritee Group=veritee StateDirectory=veritee StateDirectoryMode=0700 \
    ConfigurationDirectoryMode=0750; do
    check "veritee.service: $line" grep -qx "$line" <<<"$unit"
done
check "no unit names /usr/local" not grep -q /usr/local \
    <(dpkg-deb --fsys-tarfile "$(deb veritee)" | tar -xOf - --wildcards './lib/systemd/system/*')
check "the packaged veritee.conf is deploy/veritee.conf" \
    cmp -s <(extract veritee /etc/veritee/veritee.conf) "$src/deploy/veritee.conf"
check "veritee depends on adduser" grep -qw adduser <<<"$(dpkg-deb -f "$(deb veritee)" Depends)"

lib=/usr/lib/$multiarch
check "libveritee0 holds libveritee.so.$upstream" has libveritee0 "$lib/libveritee.so.$upstream"
check "libveritee0 holds the libveritee.so.0 link" has libveritee0 "$lib/libveritee.so.0"
check "libveritee0 holds nothing else of the library" \
    not grep -qE '\.so$|\.a$|\.h$|\.pc$' "$work/libveritee0.list"
soname=$(extract libveritee0 "$lib/libveritee.so.$upstream" >"$work/libveritee.so" &&
    objdump -p "$work/libveritee.so" | awk '$1 == "SONAME" { print $2 }')
check "SONAME libveritee.so.0 ($soname)" [ "$soname" = libveritee.so.0 ]
for h in "$src"/include/veritee/*.h; do
    check "libveritee-dev holds veritee/$(basename "$h")" \
        has libveritee-dev "/usr/include/veritee/$(basename "$h")"
done
n_src=$(find "$src/include" -name '*.h' | wc -l)
n_pkg=$(grep -c '\.h$' "$work/libveritee-dev.list")
check "libveritee-dev holds the installed headers only ($n_pkg, include/ has $n_src)" \
    [ "$n_pkg" -eq "$n_src" ]
for f in "$lib/libveritee.so" "$lib/libveritee.a" "$lib/pkgconfig/veritee.pc"; do
    check "libveritee-dev holds $f" has libveritee-dev "$f"
done
pc=$(extract libveritee-dev "$lib/pkgconfig/veritee.pc")
for line in prefix=/usr "libdir=$lib" includedir=/usr/include "Version: $upstream"; do
    check "veritee.pc: $line" grep -qx "$line" <<<"$pc"
done
check "libveritee-dev depends on libveritee0 (= $version)" \
    grep -qF "libveritee0 (= $version)" <<<"$(dpkg-deb -f "$(deb libveritee-dev)" Depends)"

# --- maintainer scripts ---------------------------------------------------------------------
mkdir -p "$work/control"
dpkg-deb -e "$(deb veritee)" "$work/control/veritee"
for s in preinst postinst prerm postrm; do
    f="$work/control/veritee/$s"
    [ -f "$f" ] && check "veritee.$s: sh -n" sh -n "$f"
done
check "the postinst creates the user veritee" grep -q 'adduser --system' \
    "$work/control/veritee/postinst"

# --- install, reinstall, remove, purge in a throwaway root ------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    skip_or_fail "the installation test needs root (mount namespace, overlayfs, chroot)"
fi
start=$(date +%s)
unshare --mount --propagation private bash "$here/deb_root.sh" "$work" "$version" "$arch" \
    "$src" >"$work/root.log" 2>&1
rc=$?
cat "$work/root.log"
echo "installation test: exit $rc in $(($(date +%s) - start)) s"
if [ $rc -eq 77 ]; then
    skip_or_fail "$(sed -n 's/^SKIP: //p' "$work/root.log" | head -n 1)"
fi
p=$(sed -n 's/^root: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$work/root.log")
f=$(sed -n 's/^root: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$work/root.log")
check "the installation test ran to its end" [ -n "$p" ]
passes=$((passes + ${p:-0}))
fails=$((fails + ${f:-0}))
[ "$fails" -ne 0 ] || rm -rf "$tree" # the build tree of a good run is not worth keeping
finish
