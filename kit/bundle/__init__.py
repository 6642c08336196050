"""Evidence bundles: run a report notebook, export it offline, seal and verify it."""

from __future__ import annotations
