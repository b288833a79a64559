#!/usr/bin/env python3
"""Set everything up and run Cablebot or its tests: `python3 dev.py run` / `python3 dev.py test`.

Creates `.venv` beside this file on first use and installs the project (with its test extra)
into it; later calls reuse it. Extra arguments are passed through to pytest or cablebot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


def ensure_venv() -> None:
    """Create the virtualenv and install the project when pyproject.toml is newer."""
    if not (BIN / "python").exists():
        print("dev: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pyproject = ROOT / "pyproject.toml"
    if STAMP.exists() and STAMP.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    print("dev: installing cablebot and its test tools into .venv", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.touch()


def has_token() -> bool:
    """True when a Discord token is configured in the environment or in .env."""
    if os.environ.get("CABLEBOT_DISCORD_TOKEN") or os.environ.get("DISCORD_TOKEN"):
        return True
    env_file = ROOT / ".env"
    if not env_file.exists():
        return False
    for line in env_file.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key.strip() in {"CABLEBOT_DISCORD_TOKEN", "DISCORD_TOKEN"} and value.strip():
            return True
    return False


def call(command: list[str]) -> int:
    """Run `command` in the foreground; Ctrl-C is left to it (its exit status is returned).

    The terminal sends SIGINT to both processes: this one waits for the child's own clean exit
    (status 130) instead of dying with a traceback.
    """
    previous = signal.signal(signal.SIGINT, lambda *_: None)  # reset to default in the child
    try:
        status = subprocess.call(command, cwd=ROOT)
    finally:
        signal.signal(signal.SIGINT, previous)
    return 128 - status if status < 0 else status


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "test":
        return call([str(BIN / "python"), "-m", "pytest", *rest])
    cablebot = str(BIN / "cablebot")
    return call([cablebot, *(rest or ["run" if has_token() else "chat"])])


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # during the set-up
        print(file=sys.stderr)
        sys.exit(130)
    except subprocess.CalledProcessError as exc:  # pip or venv said why above
        print(f"dev: setting up .venv failed (status {exc.returncode})", file=sys.stderr)
        sys.exit(1)
