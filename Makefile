# Two commands on a fresh machine: `make run` (serve the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install translations extract-translations lint clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test,dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d danso_network/translations -D messages >/dev/null

# After changing user-facing strings: refresh the catalogue, translate the new entries, commit the .po.
extract-translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs ".*" --no-location --sort-output \
	    -o danso_network/translations/messages.pot .
	$(BIN)/pybabel update -i danso_network/translations/messages.pot -d danso_network/translations --no-fuzzy-matching --ignore-obsolete

instance/secret_key:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > instance/secret_key
	chmod 600 instance/secret_key

# Serve the demo on the embedded SQLite database (instance/danso.db).
run: install instance/secret_key
	export DANSO_SECRET_KEY="$$(cat instance/secret_key)" DANSO_SESSION_COOKIE_SECURE=false \
	       DANSO_REMEMBER_COOKIE_SECURE=false; \
	$(BIN)/danso db upgrade && \
	$(BIN)/danso demo load --if-empty && \
	echo "Mở http://$(HOST):$(PORT) trong trình duyệt (Ctrl+C để dừng)." && \
	$(BIN)/danso run --host $(HOST) --port $(PORT)

# The suite in parallel (pytest-xdist, one process per CPU). Tests that use one prepared database
# (the demo) or the live browser server run on one worker each (--dist loadgroup, tests/conftest.py).
TEST_WORKERS ?= auto
test: install
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

# Roster (issue #4), list (issue #8), coverage and coverage-map (issue #10) benchmarks on a national-scale
# synthetic dataset and the Đồng Nai demo, SQLite then PostgreSQL (local server, user postgres; reported,
# not fatal, when unreachable). Writes benchmarks/RESULTS.md. Then the load and fault benchmarks of issue #14
# (gunicorn + locust on PostgreSQL and Redis, which must be running; LOAD_ARGS are passed to it, BENCH_LOAD=0
# skips it), which add their section to RESULTS.md. The "bench" extra (matplotlib, mapclassify: the explore()
# baseline; locust) is installed here, never for make test / make run.
BENCH_LOAD ?= 1
bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test,dev,bench]"
	$(BIN)/python -m benchmarks.bench_roster $(BENCH_ARGS)
	$(if $(filter 1,$(BENCH_LOAD)),$(BIN)/python -m benchmarks.bench_load $(LOAD_ARGS))

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
