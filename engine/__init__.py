"""Everything that is not GUI: scan I/O, image functions, simulation, models, evaluation.

This package never imports Qt, so it runs the same in the CLI, in tests and behind the GUI.
"""

__version__ = "0.1.0"
