"""`python -m engine.cli`: the same as `xray-engine`."""

import sys

from engine.cli import main

sys.exit(main())
