# The README's two commands, and the everyday ones.
.PHONY: demo test lint bench

demo:
	pip install -q uv && uv run --frozen entrasync demo

test:
	pip install -q uv && uv run --frozen pytest

lint:
	uv run --frozen ruff check . && uv run --frozen ruff format --check .

bench:
	uv run --frozen python -m bench.run
