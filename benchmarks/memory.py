"""Peak memory of one benchmark case, measured in a process of its own (the export and import
benchmarks of issues #11 and #12: "peak memory under … MB").

The child runs ``python -m <module> --memory …``, prints one JSON line with ``before`` (its
resident size once the app and its libraries are loaded, as in a web worker or the CLI) and
``peak`` (:func:`high_water_mark` after the work), and the parent reads it back.

Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux keeps a process's high-water mark across ``fork``
and ``execve`` (getrusage(2)), so a child of the benchmark — a process of several hundred MB holding
a dataset's rows — reported the parent's size, not its own (the +545 MB / +1.9 GB of an earlier
RESULTS.md). ``VmHWM`` belongs to the address space, which ``execve`` replaces.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rss_now() -> int:
    """The process's resident size now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def high_water_mark() -> int:
    """The process's peak resident size so far, in bytes (``VmHWM``, Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def in_child(module: str, *args: str) -> dict:
    """Run ``python -m module --memory *args`` from the project folder and return the JSON its
    last line prints; its last error line, when it fails."""
    out = subprocess.run([sys.executable, "-m", module, "--memory", *args], capture_output=True, text=True,
                         cwd=HERE.parent, check=False)
    if out.returncode != 0:
        raise RuntimeError(_reason(out.stderr or out.stdout))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _reason(output: str) -> str:
    """The exception line of a child's traceback (``sqlalchemy.exc.OperationalError: …``), not
    the "Background on this error" line SQLAlchemy prints after it; else the last line."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)]
    return (raised[-1] if raised else lines[-1] if lines else "no output")[:300]
