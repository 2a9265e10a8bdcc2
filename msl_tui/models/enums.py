"""The closed vocabularies of the trade (see DOMAIN.md). Pure: no I/O, no UI."""

from __future__ import annotations

from enum import StrEnum


class Influence(StrEnum):
    GLOBAL = "global"
    NATIONAL = "national"
    REGIONAL = "regional"
    LOCAL = "local"


class Stance(StrEnum):
    ADVOCATE = "advocate"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    UNKNOWN = "unknown"


class Segment(StrEnum):
    """The stakeholder-matrix cell a KOL falls in."""

    MANAGE_CLOSELY = "manage closely"
    KEEP_SATISFIED = "keep satisfied"
    KEEP_INFORMED = "keep informed"
    MONITOR = "monitor"


class Strength(StrEnum):
    SPEAKER = "speaker"
    TRIALIST = "trialist"
    GUIDELINE_AUTHOR = "guideline author"
    EDUCATOR = "educator"
    REVIEWER = "reviewer"
    DIGITAL = "digital"
    AUTHOR = "author"


class Channel(StrEnum):
    IN_PERSON = "in person"
    DINNER_MEETING = "dinner meeting"
    LUNCH_AND_LEARN = "lunch-and-learn"
    LIVE_WEBINAR = "live webinar"
    RECORDED_WEBINAR = "recorded webinar"
    CONGRESS = "congress"
    PHONE_VIDEO = "phone/video"
    EMAIL = "email"


class IdentificationSource(StrEnum):
    """How a KOL came to our attention: top-down evidence or bottom-up nomination."""

    PUBLICATIONS = "publications"
    COMMITTEE_SEAT = "committee seat"
    TRIAL_WORK = "trial work"
    RENOWNED_CENTRE = "renowned centre"
    PEER_NOMINATION = "peer nomination"
    MSL_FIELD = "msl field observation"


class EngagementStage(StrEnum):
    GROWING = "growing"
    PLATEAU = "plateau"
    DECLINING = "declining"


class ObjectiveKind(StrEnum):
    SCIENTIFIC = "scientific"
    BUSINESS = "business"


class ActivityKind(StrEnum):
    VISIT = "visit"
    ADVISORY_BOARD = "advisory board"
    EDUCATION = "education programme"
    RESEARCH = "research collaboration"
    IIS = "investigator-initiated study"
    CONGRESS_MEETING = "congress meeting"
    SPEAKING = "speaking"


class OwnerRole(StrEnum):
    MSL = "MSL"
    MEDICAL_AFFAIRS = "Medical Affairs"
    MEDICAL_INFORMATION = "Medical Information"
    SALES = "Sales"
    OTHER = "other"


class LifecyclePhase(StrEnum):
    """The product's lifecycle phase; it shifts which segments deserve the effort."""

    PRE_LAUNCH = "pre-launch"
    LAUNCH = "launch"
    GROWTH = "growth"
    PLATEAU = "plateau"
    DECLINE = "decline"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class InsightCategory(StrEnum):
    UNMET_NEED = "unmet need"
    TREATMENT_PRACTICE = "treatment practice"
    DATA_GAP = "data gap"
    PERCEPTION = "perception of the company"
    COMPETITIVE = "competitive"
    OTHER = "other"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class InteractionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    AMENDED = "amended"


class PromptPurpose(StrEnum):
    """Why a neutral question is asked."""

    CURRENT_PRACTICE = "current practice"
    UNMET_NEEDS = "unmet needs"
    EVIDENCE_NEEDS = "data and evidence needs"
    PERCEPTION = "perception of the company"
    ROOT_CAUSE = "root cause of negative feedback"
    RELATIONSHIP = "evaluate the relationship"


__all__ = [
    "ActivityKind",
    "Channel",
    "EngagementStage",
    "IdentificationSource",
    "Influence",
    "InsightCategory",
    "InteractionStatus",
    "LifecyclePhase",
    "ObjectiveKind",
    "OwnerRole",
    "PlanStatus",
    "PromptPurpose",
    "Segment",
    "Sentiment",
    "Stance",
    "Strength",
]
