"""Capacity under /api/v1/orgs/{org}/: the grid and the fit (`grid`), and people's
capacity records (`records`)."""

from __future__ import annotations

from ninja import Router

from carte.capacity.api import grid, records

router = Router()
router.add_router("", records.router)
router.add_router("", grid.router)
