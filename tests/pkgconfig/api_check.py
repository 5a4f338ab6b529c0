#!/usr/bin/env python3
"""The installed API, both ways: the functions declared by the installed headers (the umbrella
<veritee/veritee.h> preprocessed with CC) must be exactly the functions libveritee.so exports
(`nm -D --defined-only`): nothing exported that is not declared public, nothing declared public
that is not exported.

  api_check.py CC INCLUDEDIR LIBVERITEE_SO
"""
import re
import subprocess
import sys


def main():
    cc, incdir, so = sys.argv[1:4]
    text = subprocess.run([cc, "-E", "-P", "-I", incdir, "-x", "c", "-"],
                          input="#include <veritee/veritee.h>\n", capture_output=True, text=True,
                          check=True).stdout
    # A declaration names the function right before its parameter list; a function-pointer
    # member or typedef ("enum vt_err (*fn)(...)", "vt_time (*clock)(...)") is followed by "(*".
    declared = set(re.findall(r"\b(vt_\w+)\s*\((?!\s*\*)", text))
    nm = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True,
                        check=True).stdout
    exported = {f[2] for f in (line.split() for line in nm.splitlines())
                if len(f) == 3 and f[1] in "TtWiD"}
    problems = 0
    for sym in sorted(exported - declared):
        print(f"exported but not declared in an installed header: {sym}")
        problems += 1
    for sym in sorted(declared - exported):
        print(f"declared in an installed header but not exported: {sym}")
        problems += 1
    print(f"{len(declared)} functions declared, {len(exported)} exported, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
