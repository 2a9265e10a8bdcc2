"""A Key Opinion Leader's profile: master data owned by head office."""

from __future__ import annotations

from pydantic import Field

from msl_tui.models.base import LongText, Name, ShortText, SyncedRecord, Tag
from msl_tui.models.enums import (
    Channel,
    EngagementStage,
    IdentificationSource,
    Influence,
    Stance,
    Strength,
)


class Kol(SyncedRecord):
    name: Name
    credentials: ShortText = ""
    specialty: ShortText = ""
    therapeutic_areas: list[Tag] = Field(default_factory=list)
    institution: ShortText = ""
    city: ShortText = ""
    region: ShortText = ""
    country: ShortText = ""
    territory: ShortText = ""
    influence: Influence = Influence.LOCAL
    stance: Stance = Stance.UNKNOWN
    strengths: list[Strength] = Field(default_factory=list)
    preferred_channels: list[Channel] = Field(default_factory=list)
    identified_by: list[IdentificationSource] = Field(default_factory=list)
    identification_note: ShortText = ""
    stage: EngagementStage = EngagementStage.GROWING
    tags: list[Tag] = Field(default_factory=list)
    profile_note: LongText = ""
