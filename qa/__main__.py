"""Run the command-line interface: ``python -m qa``."""

from qa.cli import main

main()
