#!/usr/bin/env python3
"""Run a Node.js script of a project under tests/clients with the project's pinned npm
packages, installed on first use.

Tests that need a peer nobody here wrote and that lives on npm (panva's oidc-provider, ...)
keep a tiny Node project in tests/clients/<project>/: package.json and package-lock.json (a
full lock). This helper runs `npm ci` there (into its node_modules/, which git ignores) when
node_modules is missing or was made from another lock, one maker at a time under a file lock
(cargo runs tests in parallel), then replaces itself with `node SCRIPT ARGS...` (same process,
so the test that started it can stop it by its id; standard streams are passed on).

    python3 tests/clients/node_project.py PROJECT SCRIPT [ARGS...]

Needs `node` and `npm` (Debian: apt-get install nodejs npm; SIGNET_NODE and SIGNET_NPM name
others) and the npm registry on the first run.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CLIENTS = Path(__file__).resolve().parent
REPO = CLIENTS.parents[1]
# Written into node_modules after a complete `npm ci`: the lock it was made from.
STAMP = ".signet-package-lock.json"


def tool(env: str, name: str) -> str:
    path = shutil.which(os.environ.get(env) or name)
    if not path:
        sys.exit(f"node_project: `{name}` not found (Debian: apt-get install nodejs npm; "
                 f"or set {env})")
    return path


def ensure(project: Path) -> None:
    """node_modules of `project` installed from exactly its package-lock.json."""
    lock_text = (project / "package-lock.json").read_text()
    modules = project / "node_modules"
    stamp = modules / STAMP
    locks = REPO / "target"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"npm-{project.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == lock_text:
            return
        started = time.monotonic()
        print(f"node_project: npm ci in {project} (pinned packages from the npm registry)",
              file=sys.stderr)
        cmd = [tool("SIGNET_NPM", "npm"), "ci", "--no-audit", "--no-fund", "--ignore-scripts",
               "--loglevel=error"]
        res = subprocess.run(cmd, cwd=project, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL)
        if res.returncode != 0:
            sys.exit(f"node_project: {' '.join(cmd)} in {project} failed (is the npm registry "
                     f"reachable?):\n{res.stdout}\n{res.stderr}")
        stamp.write_text(lock_text)
        print(f"node_project: ready in {time.monotonic() - started:.0f} s", file=sys.stderr)


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    project = (CLIENTS / sys.argv[1]).resolve()
    if project.parent != CLIENTS or not (project / "package-lock.json").exists():
        sys.exit(f"node_project: {sys.argv[1]} is not a Node project under {CLIENTS}")
    ensure(project)
    node = tool("SIGNET_NODE", "node")
    script = project / sys.argv[2]
    os.chdir(project)
    os.execv(node, [node, str(script), *sys.argv[3:]])


if __name__ == "__main__":
    main()
