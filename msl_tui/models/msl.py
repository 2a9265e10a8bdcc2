"""Who uses this store, on which device."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from msl_tui.models.base import Name, ShortText, Strict

Role = Literal["msl", "head office"]


class MslProfile(Strict):
    msl_id: Name = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    name: Name
    territory: ShortText = ""
    role: Role = "msl"
    device_id: Name = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
