"""``python -m ckv.cli …`` = ``ckv …``."""

from __future__ import annotations

import sys

from .app import main

sys.exit(main())
