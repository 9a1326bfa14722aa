"""The PySide6 desktop application: viewer, queue, workers. Models never run on the GUI thread."""

__version__ = "0.1.0"
