#!/usr/bin/env bash
# Static security analysis of the application package with bandit (docs/security.md, "Static
# analysis (bandit)"). Fails on any finding that is not justified on its line.
#
# Thresholds: every severity (low and up) at every confidence (low and up). The package had 24
# findings when this check was introduced, all of them cheap to justify on their line, so there is
# no reason to let a whole class through: a new `random` for a token, `assert` as a check, a
# `subprocess` with a shell or a hard-coded secret fails CI until it is fixed or justified.
# A justification names its test (`# nosec B311`), never a bare `# nosec` that would silence every
# test on the line; this script refuses bare ones too.
#
# Usage: scripts/bandit_check.sh [paths…]   (default: danso_network)
set -uo pipefail
cd "$(dirname "$0")/.."

BANDIT=${BANDIT:-.venv/bin/bandit}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(danso_network)

bare=$(grep -rnE --include='*.py' '#[[:space:]]*nosec' "${targets[@]}" \
       | grep -vE '#[[:space:]]*nosec[[:space:]:]+B[0-9]{3}([[:space:]]*,[[:space:]]*B[0-9]{3})*([[:space:]]|$)' || true)
if [ -n "$bare" ]; then
  echo "bandit_check: a '# nosec' must name the test it silences (# nosec B311 # reason):" >&2
  echo "$bare" >&2
  exit 1
fi

errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
status=0
"$BANDIT" -c bandit.yaml -r "${targets[@]}" -q --severity-level low --confidence-level low 2>"$errors" || status=$?
# Bandit warns about a justified line on which some other node passed the same test (two calls on
# one line): noise, not a finding. Anything else it says on stderr is shown.
grep -v 'but no failed test on file' "$errors" >&2 || true
if [ "$status" -ne 0 ]; then
  echo "bandit_check: fix each finding above, or justify it on its line (# nosec BXXX # reason) and in docs/security.md" >&2
fi
exit "$status"
