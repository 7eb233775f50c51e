"""``python -m eventx`` runs the command line."""

from eventx.cli import main

main()
