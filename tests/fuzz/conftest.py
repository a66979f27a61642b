"""Fuzz tests (issue #14 item 4): hypothesis properties over the inputs users and files give.

Bounded for CI: each test sets its own ``max_examples`` and ``deadline=None``; the profile below
keeps hypothesis from writing its example database anywhere (``database=None``), so no
``.hypothesis/`` folder appears in the working tree, and prints the blob that reproduces a failure.

Under ``CI=true`` the examples are derandomized (the same ones every run: CI passes or fails for
the change under review, not for a new draw); elsewhere each run draws new ones, which is how a
developer's runs keep finding new inputs. ``DANSO_FUZZ_RANDOM=1`` draws new ones under CI too.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Tests that take a function-scoped fixture (the autouse rolled-back transaction, ``world``) reuse
# it for every example: each such test undoes what an example wrote itself (a SAVEPOINT per example).
FUZZ = settings(deadline=None, database=None, print_blob=True,
                derandomize=os.environ.get("CI") == "true" and os.environ.get("DANSO_FUZZ_RANDOM") != "1",
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
