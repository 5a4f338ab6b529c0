"""Shared test fixtures: where the real evidence is, and how the command line verifies it.

The fixtures directory: VERITEE_FIXTURES, VT_FIXTURES or VT_FIXTURES_DEFAULT (set by ctest), else
../shared/fixtures beside the repository. Without it the fixture tests are skipped with a message;
under CI=true they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest

HERE = Path(__file__).resolve().parent


def fixtures_root() -> Optional[Path]:
    for var in ("VERITEE_FIXTURES", "VT_FIXTURES", "VT_FIXTURES_DEFAULT"):
        v = os.environ.get(var)
        if v:
            return Path(v)
    guess = HERE.parents[3] / "shared" / "fixtures"
    return guess if guess.is_dir() else None


def require_fixtures() -> Path:
    root = fixtures_root()
    if root is None or not (root / "dcap").is_dir():
        msg = f"fixtures not found at {root} (set VERITEE_FIXTURES)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; CI requires them")
        pytest.skip(msg)
    return root


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return require_fixtures()


def cli_env() -> dict[str, str]:
    """The environment for the veritee command: without the LD_PRELOAD of a sanitizer runtime
    that the interpreter needs for an instrumented libveritee.so (tests/bindings/python.sh); the
    command carries its own."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def cli_verify(args: list[str]) -> Optional[dict[str, Any]]:
    """`veritee verify ARGS` as JSON, when VERITEE_BINARY names the command (ctest sets it),
    else None."""
    binary = os.environ.get("VERITEE_BINARY")
    if not binary:
        return None
    out = subprocess.run([binary, "verify", *args], capture_output=True, text=True, check=False,
                         env=cli_env())
    return json.loads(out.stdout)
