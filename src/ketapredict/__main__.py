"""Allow `python -m ketapredict`."""

from ketapredict.cli import main

if __name__ == "__main__":  # not when a spawned worker (Dask, multiprocessing) imports it
    main()
