# The README's two commands (`make demo`, `make test`), and the everyday ones.
# Each installs what it needs first: uv from PyPI, then the locked dependencies (uv run --frozen);
# `test` also Debian's Chromium, which the Prefect UI tests drive headless, and Debian's
# PostgreSQL, on which a test runs the Prefect server as production does.
.PHONY: demo test lint bench uv postgresql

# apt-get needs root: as root run it directly, else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
CHROMIUM := /usr/bin/chromium
# the postgresql package's server binaries: /usr/lib/postgresql/<version>/bin/pg_ctl
PG_CTL := $(firstword $(wildcard /usr/lib/postgresql/*/bin/pg_ctl))

demo: uv
	uv run --frozen entrasync demo

test: uv $(CHROMIUM) postgresql
	uv run --frozen pytest -n 3 --dist worksteal --durations=20

uv:
	@command -v uv >/dev/null || pip install -q uv

# Only when it is missing: the one thing the suite needs beyond PyPI.
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

# Only when it is missing: the tests start a private cluster of their own (as user postgres).
postgresql:
ifeq ($(PG_CTL),)
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
endif

lint: uv
	uv run --frozen ruff check . && uv run --frozen ruff format --check .

# 10k users in under 3 minutes; 100k: make bench BENCH_ARGS="--users 100000"
bench: uv
	uv run --frozen --group bench python -m bench.run $(BENCH_ARGS)
