"""Frozen entry point of `xray-screening`: the GUI (`xray_gui.app:main`)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from xray_gui.app import main

    sys.exit(main())
