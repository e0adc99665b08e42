"""Operations: what the ops flows and commands need (no Prefect import at module level)."""
