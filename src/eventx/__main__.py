"""``python -m eventx`` runs the command line."""

from eventx.cli.main import main

main()
