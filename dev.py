#!/usr/bin/env python3
"""Set up and run the project with nothing but Python >= 3.11 and pip.

    python3 dev.py run  [ARGS...]   create .venv if needed, install, compile catalogs, run the bot
    python3 dev.py test [ARGS...]   the same set-up, then the test suite (pytest ARGS), on parallel workers
    python3 dev.py setup            only the set-up

The dependencies are those pinned in pyproject.toml, resolved against constraints.txt
(every transitive package pinned), so a fresh clone installs exactly what CI tested.
Set-up is skipped when nothing it depends on has changed since the last run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".liaison-installed"


def _requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["test"]]


def _fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Python 3.11 or newer is needed; this is " + sys.version.split()[0])
    if not PY.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text() != _fingerprint():
        print("installing pinned dependencies ...", flush=True)
        subprocess.run(
            [str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-c", str(ROOT / "constraints.txt"), *_requirements()],
            check=True,
        )
        STAMP.write_text(_fingerprint())
    # Compiled catalogs are build output: always rebuilt from the committed .po files.
    subprocess.run(
        [str(PY), "-m", "babel.messages.frontend", "compile", "--statistics",
         "-d", str(ROOT / "bot" / "locales"), "-D", "messages"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _parallel(args: list[str]) -> list[str]:
    """The suite on parallel workers (pytest-xdist), twice as many as cores: many tests wait on a child
    process or a fake's clock, and overlap well. Arguments that choose otherwise win: `-n 0` (or
    `-p no:xdist`) runs it in this process, as a debugger or `-s` wants."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) for a in args) or "no:xdist" in args
    workers = min(8, 2 * (os.cpu_count() or 1))
    return args if chosen else ["-n", str(workers), *args]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup"}:
        print(__doc__)
        return 2
    setup()
    os.chdir(ROOT)
    if argv[0] == "run":
        return subprocess.call([str(PY), "-m", "bot", "run", *argv[1:]])
    if argv[0] == "test":
        return subprocess.call([str(PY), "-m", "pytest", *_parallel(argv[1:])])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
