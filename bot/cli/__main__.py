"""`python -m bot.cli`: the same as the `fundguard` script."""

from bot.cli import main

main()
