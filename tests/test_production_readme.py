"""The README's "Production: PostgreSQL and gunicorn" section runs as written (issue #12 item 5).

``scripts/production_check.sh`` reads the commands from the README's block marked
``<!-- production-check …`` and runs them one by one on a fresh virtualenv, a throwaway PostgreSQL
database and Redis database 15, then logs in through gunicorn: it takes minutes (a fresh ``pip
install``), so ``.ci/run`` runs it as a step of its own, outside the parallel suite. The test here
checks, in a moment and without any service, that the block is there and in an order that can
work (the communes imported before the first account is given one of them — the step the README
missed)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "production_check.sh"


def readme_commands() -> list[str]:
    """The commands of the marked block, as the script will run them."""
    done = subprocess.run(["bash", str(SCRIPT), "--print"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def position(commands: list[str], pattern: str) -> int:
    found = [i for i, command in enumerate(commands) if re.search(pattern, command)]
    assert found, f"the README's production block has no command matching {pattern!r}: {commands}"
    return found[0]


def test_the_readme_marks_its_production_commands_in_an_order_that_works():
    commands = readme_commands()
    steps = [position(commands, p) for p in (
        r"pip install -e \.",
        r"^createdb ",
        r"^export DANSO_DATABASE_URL=postgresql\+psycopg://",
        r"^export DANSO_SECRET_KEY=",
        r"^export DANSO_RATELIMIT_STORAGE_URI=redis://",
        r"\.venv/bin/danso db upgrade",
        r"\.venv/bin/danso units import ",
        r"\.venv/bin/danso users create .*--unit ",
        r"\.venv/bin/gunicorn ",
    )]
    assert steps == sorted(steps), commands
    assert position(commands, r"^export DANSO_REDIS_URL=redis://") < position(commands, r"\.venv/bin/danso worker &$")
    assert position(commands, r"\.venv/bin/gunicorn ") == len(commands) - 1  # the server last: it does not return
    codes = set()
    for command in commands:  # every file it imports ships with the project
        if " units import " in command:
            path = ROOT / command.split(" units import ", 1)[1].split()[0]
            assert path.is_file(), command
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as f:
                codes |= {str(feature["properties"]["code"]) for feature in json.load(f)["features"]}
    unit = re.search(r"users create .*--unit (\S+)", commands[position(commands, r"users create")]).group(1)
    assert unit in codes, f"the first account's unit {unit} is in no file the block imports"
