#!/usr/bin/env bash
# Runs the commands of README.md's "Production: PostgreSQL and gunicorn" section as written, on a
# throwaway database, and proves the result serves pages (issue #12 item 5).
#
# The commands are read from README.md: the first ```sh block after the line that starts with
# "<!-- production-check". They run one by one, in a copy of this working tree (so
# `python3 -m venv .venv && .venv/bin/pip install -e .` makes a fresh virtualenv, as on a new
# machine, and the project's own .venv is left alone), with only these substitutions, each of which
# must find its text (a README that no longer says it fails the check):
#   danso_prod                       -> h_prod_<random>   (the PostgreSQL role and database: made, then dropped)
#   redis://127.0.0.1:6379/<n>       -> redis://127.0.0.1:6379/15   (Redis database 15, emptied at the end)
#   127.0.0.1:8000                   -> 127.0.0.1:<a free port>
# A command that asks for a password (danso users create) reads it twice from standard input; a
# command ending in "&" runs in the background; the gunicorn command, the last one, is started in
# the background and then: /login is fetched, the CSRF token taken from it, the first admin logs in,
# /admin/users and /units/ (the province and its communes) are checked, the worker is seen registered in Redis. Everything
# started is stopped and the database and role are dropped, whatever happens.
#
# Needs: PostgreSQL on 127.0.0.1:5432 (user postgres, trust), Redis on 127.0.0.1:6379, curl,
# python3 with venv, network access to the package index (pip).
# Usage: scripts/production_check.sh [--print]      (--print: show the commands as they would run)
# Environment: README (default: README.md beside this folder), KEEP_WORKDIR=1 keeps the copy.
# Exit status: 0 when every command and check passed; 1 otherwise, with the failed step named.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
README_FILE="${README:-$ROOT/README.md}"
PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_DB=15
NAME="h_prod_$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ADMIN_PASSWORD="kiem-tra-$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
STARTED=()        # pids of the background commands, stopped at the end
GUNICORN_PID_FILE=""
WORK=""
CURRENT_STEP="reading README.md"

say() { printf '\n=== %s\n' "$*"; }
fail() {
  printf '\nproduction check FAILED at: %s\n%s\n' "$CURRENT_STEP" "${1:-}" >&2
  exit 1
}

# The commands of the marked block, one per line (continuations joined, blank lines and comment
# lines dropped, a trailing comment removed), after the substitutions above.
extract_commands() {
  python3 - "$README_FILE" "$NAME" "$REDIS_DB" "$PORT" <<'PY'
import re, sys

path, name, redis_db, port = sys.argv[1:5]
try:
    lines = open(path, encoding="utf-8").read().splitlines()
except OSError as e:
    sys.exit(f"cannot read {path}: {e.strerror}")
start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("<!-- production-check")), None)
if start is None:
    sys.exit(f"{path} has no line starting with '<!-- production-check' before the production commands")
fence = next((i for i in range(start + 1, len(lines)) if lines[i].strip() in ("```sh", "```bash", "```shell")), None)
if fence is None:
    sys.exit(f"{path}: no ```sh block after the production-check marker")
end = next((i for i in range(fence + 1, len(lines)) if lines[i].strip() == "```"), None)
if end is None:
    sys.exit(f"{path}: the production block is not closed")


def without_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


commands, pending = [], ""
for raw in lines[fence + 1:end]:
    line = without_comment(raw)
    if line.endswith("\\"):
        pending += line[:-1] + " "
        continue
    line = (pending + line).strip()
    pending = ""
    if line:
        commands.append(line)
text = "\n".join(commands)
for pattern, replacement, what in [
    (r"\bdanso_prod\b", name, "the database and role name danso_prod"),
    (r"redis://127\.0\.0\.1:6379/\d+", f"redis://127.0.0.1:6379/{redis_db}", "a Redis URL redis://127.0.0.1:6379/<n>"),
    (r"127\.0\.0\.1:8000\b", f"127.0.0.1:{port}", "gunicorn's address 127.0.0.1:8000"),
]:
    text, n = re.subn(pattern, replacement, text)
    if not n:
        sys.exit(f"{path}: the production block no longer mentions {what}; update scripts/production_check.sh")
print(text)
PY
}

cleanup() {
  local status=$?
  set +e
  if [ -n "$GUNICORN_PID_FILE" ] && [ -s "$GUNICORN_PID_FILE" ]; then
    local master
    master="$(cat "$GUNICORN_PID_FILE")"
    kill -TERM "$master" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$master" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$master" 2>/dev/null
  fi
  for pid in "${STARTED[@]}"; do
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  if [ -n "$WORK" ]; then
    dropdb -h "$PG_HOST" -p "$PG_PORT" -U postgres --if-exists --force "$NAME" 2>/dev/null \
      || echo "warning: could not drop the database $NAME" >&2
    dropuser -h "$PG_HOST" -p "$PG_PORT" -U postgres --if-exists "$NAME" 2>/dev/null \
      || echo "warning: could not drop the role $NAME" >&2
    redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB >/dev/null 2>&1
    if [ "${KEEP_WORKDIR:-}" = "1" ]; then
      echo "work folder kept: $WORK" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$status"
}

COMMANDS="$(extract_commands)" || fail "the production block of $README_FILE cannot be read (see above)"
if [ "${1:-}" = "--print" ]; then
  printf '%s\n' "$COMMANDS"
  exit 0
fi

CURRENT_STEP="checking what the commands need"
for tool in curl psql createdb dropdb dropuser redis-cli tar; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed"
done
pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || fail "PostgreSQL is not answering on $PG_HOST:$PG_PORT"
[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ] || fail "Redis is not answering on 127.0.0.1:6379"
grep -q '\.venv/bin/gunicorn' <<<"$COMMANDS" || fail "the production block starts no gunicorn"

trap cleanup EXIT
trap 'exit 1' INT TERM
WORK="$(mktemp -d "${TMPDIR:-/tmp}/${NAME}.XXXXXX")"
CURRENT_STEP="copying the working tree to $WORK"
say "$CURRENT_STEP"
tar -C "$ROOT" --exclude=./.venv --exclude=./instance --exclude=./.git --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=.pytest_cache --exclude=.ruff_cache --exclude=./benchmarks/out -cf - . \
  | tar -C "$WORK" -xf -
cd "$WORK"
# A fresh machine has none of the app's settings: only the block's own exports count.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^DANSO_' || true)
export GUNICORN_CMD_ARGS="--pid $WORK/gunicorn.pid"  # so the check can stop the server it started

admin=""
while IFS= read -r cmd; do
  CURRENT_STEP="$cmd"
  say "\$ $cmd"
  if [[ "$cmd" == .venv/bin/gunicorn* ]]; then
    GUNICORN_PID_FILE="$WORK/gunicorn.pid"
    eval "$cmd" >"$WORK/gunicorn.log" 2>&1 &
    STARTED+=("$!")
    for _ in $(seq 1 120); do
      curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break
      kill -0 "$!" 2>/dev/null || { cat "$WORK/gunicorn.log" >&2; fail "gunicorn stopped"; }
      sleep 0.5
    done
    curl -s -o /dev/null "http://127.0.0.1:$PORT/login" || { cat "$WORK/gunicorn.log" >&2; fail "gunicorn does not answer"; }
    echo "gunicorn answers on 127.0.0.1:$PORT"
  elif [[ "$cmd" == *"&" ]]; then
    log="$WORK/background-${#STARTED[@]}.log"
    eval "$cmd" >"$log" 2>&1 </dev/null
    STARTED+=("$!")
    sleep 1
    kill -0 "$!" 2>/dev/null || { cat "$log" >&2; fail "the background command stopped at once"; }
    echo "running in the background (pid $!, log $log)"
  else
    if [[ "$cmd" == *"users create"* ]]; then
      admin="$(sed -n 's/.*--username[ =]\([^ ]*\).*/\1/p' <<<"$cmd")"
    fi
    eval "$cmd" <<<"$(printf '%s\n%s\n' "$ADMIN_PASSWORD" "$ADMIN_PASSWORD")" || fail "the command exited with status $?"
  fi
done <<<"$COMMANDS"

[ -n "$admin" ] || fail "the production block creates no account (danso users create --username …)"
BASE="http://localhost:$PORT"  # curl sends the Secure session cookie to localhost only, as a browser would
JAR="$WORK/cookies.txt"

CURRENT_STEP="fetching /login and its CSRF token"
say "$CURRENT_STEP"
page="$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/login")" || fail "GET /login failed"
token="$(sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p' <<<"$page" | head -n 1)"
[ -n "$token" ] || fail "no CSRF token on /login"

CURRENT_STEP="logging in as $admin"
say "$CURRENT_STEP"
status="$(curl -sS -o "$WORK/login.html" -w '%{http_code} %{redirect_url}' -c "$JAR" -b "$JAR" \
  --data-urlencode "csrf_token=$token" --data-urlencode "username=$admin" \
  --data-urlencode "password=$ADMIN_PASSWORD" "$BASE/login")"
[[ "$status" == 302* ]] || fail "POST /login answered $status, not a redirect (wrong password or CSRF?)"
echo "login: $status"

CURRENT_STEP="checking /admin/users as $admin"
say "$CURRENT_STEP"
page="$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/admin/users")" || fail "GET /admin/users failed"
grep -q ">$admin<" <<<"$page" || fail "/admin/users does not list $admin"
echo "the account list shows $admin"

CURRENT_STEP="checking the home page and the province's communes"
say "$CURRENT_STEP"
curl -fsS -o /dev/null -c "$JAR" -b "$JAR" "$BASE/" || fail "GET / failed"
page="$(curl -fsSL -c "$JAR" -b "$JAR" "$BASE/units/")" || fail "GET /units/ failed"
communes="$(grep -o 'href="/units/[0-9][0-9]*"' <<<"$page" | sort -u | wc -l)"
[ "$communes" -ge 10 ] || fail "/units/ links to $communes units only (were the communes imported?)"
echo "/units/ shows the province with $communes units"

if grep -q 'danso worker' <<<"$COMMANDS"; then
  CURRENT_STEP="checking that danso worker is registered in Redis"
  say "$CURRENT_STEP"
  for _ in $(seq 1 20); do
    [ "$(redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" SCARD rq:workers 2>/dev/null || echo 0)" -ge 1 ] && break
    sleep 0.5
  done
  [ "$(redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" SCARD rq:workers)" -ge 1 ] || fail "no RQ worker in Redis database $REDIS_DB"
  echo "the worker is waiting for jobs"
fi

CURRENT_STEP="stopping what was started"
say "production check passed: every command of the README's production section ran as written"
