#!/usr/bin/env python3
"""Check the include graph of src/, tools/ and include/veritee/ against the layering
base -> crypto -> claims -> tee -> verify -> remote -> services (docs/design.md): a file may include
headers of its own layer and of the layers below it, never one above.

  scripts/check-layers.py [ROOT] [--objects BUILD_DIR]

exits 1 listing every upward include. With --objects, the built objects are checked too: every
symbol an object of the libraries or the command uses must be defined in its own layer or below
(includes of public headers cannot show a call into a layer above; the linker's view can).
"""
import os
import re
import subprocess
import sys

LAYERS = ["base", "crypto", "claims", "tee", "verify", "remote", "services"]

# Directories (relative to the root), longest prefix wins.
DIRS = {
    "src/base": "base",
    "src/crypto": "crypto",
    "src/crypto/tls.c": "services",  # links libssl: the service library (CMakeLists.txt)
    "src/crypto/tls.h": "services",
    "src/log": "crypto",  # the audit log's Merkle tree: hashes and signatures only
    "src/claims": "claims",
    "src/tee": "tee",
    "src/verify": "verify",
    "src/attester": "verify",  # evidence producers
    "src/attester/sim": "services",
    # libveritee's network edge: the HTTP client, the HTTP collateral source, the broker client.
    "src/net/http_client.c": "remote",
    "src/net/http_client.h": "remote",
    "src/net/json_fields.c": "remote",
    "src/net/json_fields.h": "remote",
    "src/collateral": "remote",
    "src/client": "remote",
    # every header of libveritee in one include, for the code above the library
    "src/internal.h": "remote",
    "src/net": "services",
    "src/store": "services",
    "src/cache": "services",
    "src/broker": "services",
    "src/kms": "services",
    "src/azure": "services",
    "src/console": "services",
    "tools": "services",
}

# Installed headers (include/veritee/NAME.h); every other header lives next to its code in src/
# and takes the layer of its directory (DIRS).
HEADERS = {
    "common": "base", "error": "base", "limits": "base", "time": "base", "buf": "base",
    "receipt": "crypto",
    "claims": "claims",
    "collateral": "tee",
    "verifier": "verify", "policy": "verify", "attester": "verify", "atls": "verify",
    "client": "remote",
    "veritee": "remote",  # the umbrella header: everything installed
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def dir_layer(rel):
    best = None
    for prefix, layer in DIRS.items():
        if rel == prefix or rel.startswith(prefix + "/"):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return best[1] if best else None


def nm(obj, *flags):
    out = subprocess.run(["nm", "-P", *flags, obj], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def check_objects(root, build, problems):
    """The objects of src/ and tools/ that the build compiles now (compile_commands.json: stale
    objects of moved files do not count)."""
    import json
    import shlex
    with open(os.path.join(build, "compile_commands.json"), encoding="utf-8") as f:
        commands = json.load(f)
    objs = {}
    for c in commands:
        rel = os.path.relpath(os.path.realpath(c["file"]), os.path.realpath(root))
        layer = dir_layer(rel)
        argv = shlex.split(c["command"])
        if layer is None or "-o" not in argv:
            continue
        obj = os.path.join(c["directory"], argv[argv.index("-o") + 1])
        if "/CMakeFiles/veritee_shared.dir/" not in obj:
            objs[obj] = (rel, layer)
    if not objs:
        problems.append(f"{build}: no objects found (build first)")
        return 0
    where = {}
    for obj, (rel, layer) in objs.items():
        for sym in nm(obj, "--defined-only"):
            where.setdefault(sym, (rel, layer))
    for obj, (rel, layer) in sorted(objs.items(), key=lambda kv: kv[1][0]):
        for sym in nm(obj, "--undefined-only"):
            if sym in where and LAYERS.index(where[sym][1]) > LAYERS.index(layer):
                problems.append(f"{rel}: {layer} uses {sym} of {where[sym][0]}, which is "
                                f"{where[sym][1]}")
    return len(objs)


def main():
    args = sys.argv[1:]
    build = None
    if "--objects" in args:
        i = args.index("--objects")
        build = args[i + 1]
        del args[i:i + 2]
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), ".."))
    problems, files = [], 0
    paths = []
    for top in ("src", "tools", "include/veritee"):
        for d, _, names in os.walk(os.path.join(root, top)):
            paths += [os.path.join(d, n) for n in names if n.endswith((".c", ".h"))]
    for path in sorted(paths):
        rel = os.path.relpath(path, root)
        if rel.startswith("include/veritee/"):
            name = os.path.basename(rel)[:-2]
            mine = HEADERS.get(name)
            if mine is None:
                problems.append(f"{rel}: no layer; add it to HEADERS in scripts/check-layers.py")
                continue
        else:
            mine = dir_layer(rel)
            if mine is None:
                problems.append(f"{rel}: no layer; add its directory to DIRS in "
                                "scripts/check-layers.py")
                continue
        files += 1
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            kind, inc = m.group(1), m.group(2)
            line = text.count("\n", 0, m.start()) + 1
            if inc.startswith("veritee/"):
                theirs = HEADERS.get(inc[len("veritee/"):-2])
                what = f"<{inc}>"
                if theirs is None:
                    problems.append(f"{rel}:{line}: {what} has no layer (HEADERS)")
                    continue
            elif kind == '"':
                # "dir/x.h" is src/dir/x.h; "x.h" is next to the including file, or else src/x.h.
                target = (os.path.join("src", inc) if "/" in inc else
                          os.path.relpath(os.path.join(os.path.dirname(path), inc), root))
                if "/" not in inc and not os.path.exists(os.path.join(root, target)):
                    target = os.path.join("src", inc)
                if not os.path.exists(os.path.join(root, target)):
                    continue  # a header of tests or of another include path
                theirs = dir_layer(target)
                what = f'"{inc}" ({target})'
                if theirs is None:
                    continue
            else:
                continue  # system and third-party headers
            if LAYERS.index(theirs) > LAYERS.index(mine):
                problems.append(f"{rel}:{line}: {mine} includes {what}, which is {theirs}")
    nobj = check_objects(root, build, problems) if build is not None else 0
    for p in problems:
        print(p)
    order = " -> ".join(LAYERS)
    if problems:
        print(f"{len(problems)} include(s) or symbol(s) against the layering {order}")
        return 1
    print(f"{files} files" + (f" and {nobj} objects" if build else "") +
          f" follow the layering {order}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
