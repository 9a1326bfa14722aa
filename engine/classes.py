"""The default object classes, in one place: what the simulator draws, what a detector is trained
on unless its config names others (`data.categories`), and what the review GUI offers before any
model says otherwise.

A model bundle carries its own list (`categories`, label k is `categories[k-1]`): whatever a
model was trained on, any names and any number, is what the GUI, the review store, the
statistics and the exports use once it is loaded. These defaults apply only where nothing else
says; nothing here imports more than the standard library.
"""

from __future__ import annotations

# The simulator draws exactly these, and their order seeds its catalogue of designs: appending
# is safe, reordering changes every simulated dataset.
DEFAULT_CLASSES: tuple[str, ...] = ("bottle", "hairdryer", "iron", "toaster", "mobile", "laptop")

__all__ = ["DEFAULT_CLASSES"]
