"""`python -m entrasync_emulators`: the same as the `entrasync-emulators` command."""

from entrasync_emulators.cli import main

main()
