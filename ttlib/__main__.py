"""`python -m ttlib ...`: the command line (see ttlib/cli/)."""
from ttlib.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
