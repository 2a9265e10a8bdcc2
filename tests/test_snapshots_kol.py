"""How the KOL loops look: the pre-call brief and the adverse-event report dialog.

Update after an intended change with
`pytest tests/test_snapshots_kol.py --snapshot-update`, then look at the pictures.
"""

from __future__ import annotations

import pytest

from tests.app_helpers import fixed_store, make_app
from tests.test_snapshots import SIZES, _run, _utc  # noqa: F401  (the pinned time zone)

SCREENS = {
    "brief": _run("b"),
    "ae_report": _run("enter", "r", text="PV desk, case 2026-0042"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_kol_loop_snapshot(snap_compare, screen: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = make_app(fixed_store())
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[screen])
