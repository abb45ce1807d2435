"""`python -m shopsearch.training`: see training/cli.py."""

from shopsearch.training.cli import main

main()
