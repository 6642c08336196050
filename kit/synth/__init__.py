"""Synthetic police agency generator: the kit's test oracle and demo data.

Run ``python -m kit.synth OUT_DIR --seed N --officers N --months N`` or call
:func:`generate`.  Imports nothing of the kit outside this package.
"""

from __future__ import annotations

from kit.synth.generate import generate

__all__ = ["generate"]
