#!/usr/bin/env python3
"""Banned-function check, in the spirit of curl's checksrc: a call to any function below in a C
file of the tree fails the check (CTest test `banned_functions`, label lint).

Scope: every .c and .h under src/ include/ tools/ bench/ examples/ fuzz/ tests/. Test and bench
code is included: it copies and formats strings with the same hazards, it is where unsafe habits
are learned, and a rule with exceptions is not a rule. A second list applies to the code that
ships (src/ include/ tools/ examples/) only: the tests drive programs through a shell on purpose.

The members of struct vt_reader (src/base/reader.h) belong to src/base/reader.c: a member
access (.cur_ / ->left_ / ...) anywhere else fails the check too; use the reader's functions.

Comments and string literals are ignored; a name counts as a call when "(" follows it and it is
not a member (".name(" / "->name(") or part of a longer identifier.

Usage: banned-functions.py [ROOT]   (ROOT defaults to the repository holding this script)
Exit status 0 when nothing banned is called, 1 otherwise (each call printed as file:line).
"""
import os
import re
import sys

# Why each is banned, and what to use instead.
BANNED = {
    "gets": "no bound at all (removed from C11); use fgets",
    "sprintf": "no bound on the output; use snprintf and check its result",
    "vsprintf": "no bound on the output; use vsnprintf",
    "strcpy": "no bound on the destination; use memcpy with a checked length or snprintf",
    "strcat": "no bound on the destination; build with snprintf or an explicit length",
    "strncpy": "does not NUL-terminate on truncation and zero-fills; use memcpy or snprintf",
    "strncat": "its bound is the space left, an off-by-one trap; use snprintf",
    "strtok": "hidden static state, not reentrant, writes into its input; use strchr/strspn",
    "atoi": "no error report, undefined behaviour on overflow; use strtol/strtoul with checks",
    "atol": "no error report, undefined behaviour on overflow; use strtol with checks",
    "atoll": "no error report, undefined behaviour on overflow; use strtoll with checks",
    "atof": "no error report; use strtod with an end-pointer check",
    "gmtime": "returns a shared static buffer; use gmtime_r",
    "localtime": "shared static buffer and the local time zone; use gmtime_r (times are UTC)",
    "ctime": "shared static buffer and the local time zone",
    "asctime": "shared static buffer, overflows on large years",
    "tmpnam": "race between naming and creating the file; use mkstemp",
    "tempnam": "race between naming and creating the file; use mkstemp",
    "mktemp": "race between naming and creating the file; use mkstemp/mkdtemp",
    "rand": "not a cryptographic generator; use RAND_bytes (src/crypto)",
    "srand": "goes with rand",
    "random": "not a cryptographic generator; use RAND_bytes (src/crypto)",
    "alloca": "unbounded stack allocation (STYLE.md 10: no VLAs, no alloca)",
    "setjmp": "skips cleanup; errors are returned (cmocka's own use is in its header)",
    "longjmp": "skips cleanup; errors are returned",
}
# Shipped code only: the tests start programs through a shell on purpose.
BANNED_SHIPPED = {
    "system": "runs a shell: quoting bugs become command injection; use fork/execve",
    "popen": "runs a shell: quoting bugs become command injection; use pipe/fork/execve",
}

DIRS = ["src", "include", "tools", "bench", "examples", "fuzz", "tests"]
SHIPPED = {"src", "include", "tools", "examples"}

# struct vt_reader's members, and the one file that may touch them.
READER_MEMBER = re.compile(r"(?:\.|->)\s*(cur_|left_|start_)\b")
READER_OWNER = os.path.join("src", "base", "reader.c")

CALL = re.compile(r"(?<![A-Za-z0-9_.>])([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def strip(text):
    """The text with comments and string/char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1 : j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check_file(path, banned, reader_owner):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip(f.read())
    bad = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("#include"):
            continue
        if not reader_owner:
            for m in READER_MEMBER.finditer(line):
                bad.append((lineno, "struct vt_reader member " + m.group(1),
                            "only src/base/reader.c touches them; use vt_reader_left/_rest/..."))
        for m in CALL.finditer(line):
            name = m.group(1)
            if name in banned:
                bad.append((lineno, name, banned[name]))
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(__file__))
    root = os.path.abspath(root)
    found = 0
    for top in DIRS:
        banned = dict(BANNED)
        if top in SHIPPED:
            banned.update(BANNED_SHIPPED)
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in ("corpus", "node_modules"))
            for name in sorted(filenames):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                for lineno, fn, why in check_file(path, banned, rel == READER_OWNER):
                    what = fn if fn.startswith("struct") else fn + "()"
                    print(f"{rel}:{lineno}: {what} is banned: {why}")
                    found += 1
    if found:
        print(f"{found} banned use(s); see scripts/banned-functions.py for the list and why")
        return 1
    print("no banned function is called, no reader member touched outside src/base/reader.c")
    return 0


if __name__ == "__main__":
    sys.exit(main())
