"""Command line entry point (`entrasync`)."""


def main() -> None:
    raise SystemExit("not yet")
