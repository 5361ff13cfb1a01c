"""Allow `python -m ketapredict`."""

from ketapredict.cli import main

main()
