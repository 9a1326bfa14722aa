"""Frozen entry point of `xray-engine`: the command line (`engine.cli:main`)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # `synth --workers N` uses spawn workers: a frozen child must run the worker, not the CLI
    multiprocessing.freeze_support()
    from engine.cli import main

    sys.exit(main())
