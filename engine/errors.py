"""The engine's one error base: a problem the user can fix, said in one line.

Every error the engine raises on purpose (a bad scan, checkpoint, bundle, config, background,
training run or review set) derives from `EngineError`, so callers catch one type: the command
line prints `xray-engine <command>: <message>` and exits 2, the GUI shows the message. The
concrete classes keep their older bases (ValueError, RuntimeError) so existing callers still work.
"""

from __future__ import annotations


class EngineError(Exception):
    """A problem with the user's input or set-up, with a one-line message that says what."""


class DatasetError(EngineError, ValueError):
    """A dataset (COCO file, split folder, crop tree) is missing, malformed or cannot be split."""


class SetupError(EngineError, ValueError):
    """This machine cannot do what was asked: a device it lacks, a precision it cannot run."""


class UnknownModelError(EngineError, KeyError):
    """A model name no registry knows; the message names the closest ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
