"""`xray-engine`: the command line: scans, simulator, training, evaluation, screening.

One module per command group (`data`, `detection`, `classification`, `models`, `scans`), each
with its handlers and a `register` that adds its commands; errors are caught once, in `main`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from engine import __version__
from engine.cli import classification, data, detection, models, scans
from engine.cli.common import DEBUG_ENV
from engine.errors import EngineError
from engine.io.files import one_line

GROUPS = (scans, data, detection, classification, models)  # the order `--help` lists them in


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xray-engine", description="X-ray screening engine: scans, models, evaluation."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command. An error no command expected is still one line on stderr (exit 1); set
    XRAY_ENGINE_DEBUG=1 to see its traceback instead."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"xray-engine {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `xray-engine info *.png | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except EngineError as exc:  # bad input or set-up: the message says what, exit 2
        print(f"xray-engine {args.command}: {one_line(exc, 400)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a folder not writable, a file gone: exit 2
        where = f"{exc.filename}: " if exc.filename else ""
        print(
            f"xray-engine {args.command}: {where}{one_line(exc.strerror or exc, 200)}",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"xray-engine {args.command}: unexpected {type(exc).__name__}: {one_line(exc, 300)} "
            f"({DEBUG_ENV}=1 shows where)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
