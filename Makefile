# The README's two commands, and the everyday ones.
.PHONY: demo test lint bench

demo:
	pip install -q uv && uv run --frozen entrasync demo

test:
	pip install -q uv && uv run --frozen pytest

lint:
	uv run --frozen ruff check . && uv run --frozen ruff format --check .

# 10k users in under 3 minutes; 100k: make bench BENCH_ARGS="--users 100000"
bench:
	uv run --frozen --group bench python -m bench.run $(BENCH_ARGS)
