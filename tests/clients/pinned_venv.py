"""Run a Python script inside a virtualenv of pinned PyPI packages, made on first use.

Tests that drive Signet with clients nobody here wrote (grpcio's reflection client, the
Helm SDK, ...) call `ensure(...)` first: it re-executes the calling script with the venv's
interpreter, making the venv when it is missing or its requirements changed. Venvs live
under the cargo target directory, so `cargo clean` removes them.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _in_venv(venv: Path) -> bool:
    try:
        return Path(sys.prefix).resolve() == venv.resolve()
    except OSError:
        return False


def _run(cmd: list, hint: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({hint}):\n{res.stdout}\n{res.stderr}")


def ensure(name: str, requirements: str, env_override: str = "") -> None:
    """Re-exec the running script in target/<name> (or $env_override), a venv holding
    exactly `requirements` (a full pinned lock), making it first if needed."""
    venv = Path(os.environ.get(env_override, "") or REPO / "target" / name)
    if _in_venv(venv):
        return
    python = venv / "bin" / "python"
    stamp = venv / "signet-requirements.txt"
    venv.parent.mkdir(parents=True, exist_ok=True)
    # One maker at a time: cargo runs test binaries' tests in parallel.
    with open(venv.parent / (venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = python.exists() and stamp.exists() and stamp.read_text() == requirements
        if not ready:
            started = time.monotonic()
            print(f"pinned_venv: making {venv} (pinned packages from PyPI)", file=sys.stderr)
            shutil.rmtree(venv, ignore_errors=True)
            _run([sys.executable, "-m", "venv", str(venv)],
                 "Python's venv module with pip is needed (Debian: apt-get install python3-venv)")
            req = venv / "requirements.txt"
            req.write_text(requirements)
            _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  "--no-input", "-r", str(req)], "is PyPI reachable?")
            stamp.write_text(requirements)
            print(f"pinned_venv: ready in {time.monotonic() - started:.0f} s", file=sys.stderr)
    script = Path(sys.argv[0]).resolve()
    os.execv(str(python), [str(python), str(script), *sys.argv[1:]])
