"""Frozen start-up, before the entry script: what `python` does by itself under the C locale
(PEP 538): LC_CTYPE becomes C.UTF-8, so Qt does not warn that the locale is not UTF-8, and child
processes (synth's workers) inherit it. The executables also run in UTF-8 mode (the spec's
`X utf8_mode=1`), as `python` does under the C locale (PEP 540)."""

import locale
import os


def _coerce_c_locale() -> None:
    if os.environ.get("LC_ALL"):
        return
    try:
        current = locale.setlocale(locale.LC_CTYPE, "")
    except locale.Error:
        return
    if current not in ("C", "POSIX"):
        return
    for candidate in ("C.UTF-8", "C.utf8", "UTF-8"):
        try:
            locale.setlocale(locale.LC_CTYPE, candidate)
        except locale.Error:
            continue
        os.environ["LC_CTYPE"] = candidate
        return


_coerce_c_locale()
del _coerce_c_locale
