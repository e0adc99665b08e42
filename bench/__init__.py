"""Benchmarks of the sync at scale against the emulators: they print figures, they are not tests."""
