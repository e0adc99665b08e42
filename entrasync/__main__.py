"""`python -m entrasync` is the `entrasync` command."""

from entrasync.cli import main

main()
