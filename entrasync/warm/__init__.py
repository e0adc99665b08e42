"""Warm execution of Prefect flow runs: a preloaded process forks each run (docs/DESIGN.md)."""
