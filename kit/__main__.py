"""Allow ``python -m kit`` as well as the ``kit`` command."""

from __future__ import annotations

import sys

from kit.cli import main

sys.exit(main())
