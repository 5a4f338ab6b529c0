#!/bin/sh
# Manual pages from --help (help2man): veritee(1), and veritee-COMMAND(1) for every command that
# `veritee --help` lists (but version and help), named with its one-line description there.
# debian/veritee.h2m adds FILES and ENVIRONMENT; SEE ALSO lists the pages made here.
# Usage: debian/gen-manpages.sh VERITEE_BINARY VERSION OUTPUT_DIR
set -eu
bin=$1 version=$2 out=$3
mkdir -p "$out"
"$bin" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\)  *\(.*\)$/\1 \2/p' |
    grep -v -E '^(version|help) ' >"$out/commands"
test -s "$out/commands"

{
    cat debian/veritee.h2m
    echo '[SEE ALSO]'
    { echo 'veritee'; sed 's/^\([^ ]*\) .*/veritee\\-\1/' "$out/commands"; } |
        sed -e 's/.*/.BR & (1),/' -e '$ s/,$/./'
    echo '.PP'
    echo 'The documents in'
    echo '.IR /usr/share/doc/veritee/ ,'
    echo 'among them'
    echo '.I deploy.md'
    echo '(installation and operation),'
    echo '.I broker.md'
    echo 'and'
    echo '.IR cache.md .'
} >"$out/veritee.h2m"

h2m() {
    help2man --no-info --no-discard-stderr --version-string="$version" \
        --source="veritee $version" --manual="veritee manual" --include="$out/veritee.h2m" "$@"
}
h2m --name="confidential-computing trust service" --output="$out/veritee.1" "$bin"
while read -r c name; do
    h2m --help-option="$c --help" --name="$name" --output="$out/veritee-$c.1.tmp" "$bin"
    # help2man names the page after the program: make it veritee-COMMAND.
    awk -v c="$c" 'sub(/^\.TH VERITEE /, ".TH VERITEE-" toupper(c) " ") { print; next }
        /^\.SH NAME/ { print; getline; sub(/^veritee /, "veritee\\-" c " ") } { print }' \
        "$out/veritee-$c.1.tmp" >"$out/veritee-$c.1"
    rm "$out/veritee-$c.1.tmp"
done <"$out/commands"
