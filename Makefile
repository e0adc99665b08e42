# The README's two commands (`make demo`, `make test`), and the everyday ones.
# Each installs what it needs first: uv from PyPI, then the locked dependencies (uv run --frozen);
# `test` also Debian's Chromium, which the Prefect UI test drives headless.
.PHONY: demo test lint bench uv

# apt-get needs root: as root run it directly, else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
CHROMIUM := /usr/bin/chromium

demo: uv
	uv run --frozen entrasync demo

test: uv $(CHROMIUM)
	uv run --frozen pytest

uv:
	@command -v uv >/dev/null || pip install -q uv

# Only when it is missing: the one thing the suite needs beyond PyPI.
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

lint: uv
	uv run --frozen ruff check . && uv run --frozen ruff format --check .

# 10k users in under 3 minutes; 100k: make bench BENCH_ARGS="--users 100000"
bench: uv
	uv run --frozen --group bench python -m bench.run $(BENCH_ARGS)
