"""A deterministic, believable demo territory. Every person and place here is invented.

The same seed and anchor date always give the same store, so tests and benchmarks can
rebuild it. Generation streams records into ``Store.bulk_load`` so that 50,000 KOLs and a
million interactions fit in memory and in reasonable time: each record as the fields its
validated model would dump, made without building the model (see ``DemoBuilder._make``).
"""

from __future__ import annotations

import copy
import gc
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from msl_tui.models import (
    Activity,
    ActivityKind,
    AdverseEvent,
    Channel,
    EngagementPlan,
    EngagementStage,
    Feedback,
    FollowUp,
    IdentificationSource,
    Influence,
    Insight,
    InsightCategory,
    Interaction,
    InteractionStatus,
    Kol,
    LifecyclePhase,
    MedInfoRequest,
    MslProfile,
    Objective,
    ObjectiveKind,
    OwnerRole,
    Sentiment,
    Stance,
    Strength,
    SyncedRecord,
    TransferOfValue,
)
from msl_tui.store import Store
from msl_tui.store.codec import ENTITY_BY_MODEL, META_FIELDS, dump_fields

M = TypeVar("M", bound=BaseModel)

DEMO_PROFILE = MslProfile(
    msl_id="demo.msl", name="Alex Morgan (demo)", territory="North-West", device_id="demo-laptop"
)

FIRST = [
    "Amara",
    "Bence",
    "Carys",
    "Dorian",
    "Elin",
    "Farid",
    "Greta",
    "Hal",
    "Ines",
    "Jonas",
    "Kaito",
    "Lena",
    "Mateo",
    "Nadia",
    "Oren",
    "Priya",
    "Quinn",
    "Rosa",
    "Soren",
    "Tamsin",
    "Uma",
    "Viktor",
    "Wren",
    "Ximena",
    "Yusuf",
    "Zofia",
    "Anouk",
    "Bram",
    "Cleo",
    "Dmitri",
    "Esme",
    "Felix",
    "Gwen",
    "Hugo",
    "Ilse",
    "Joaquin",
    "Kira",
    "Lucan",
    "Mira",
    "Niall",
]
LAST = [
    "Aldane",
    "Brevik",
    "Castellan",
    "Dunmore",
    "Esterhaz",
    "Fairlow",
    "Galloway",
    "Hartigan",
    "Ivers",
    "Jorvik",
    "Kessler",
    "Lindqvist",
    "Marlowe",
    "Norcott",
    "Oyelaran",
    "Pellegrin",
    "Quarles",
    "Rasmussen",
    "Sandoval",
    "Thorne",
    "Ulvaeus",
    "Vantongeren",
    "Whitcombe",
    "Yarrow",
    "Zelenko",
    "Abernathy",
    "Brightwater",
    "Coldridge",
    "Devereux",
    "Ellingham",
    "Fenwick",
    "Greaves",
    "Holloway",
    "Inchbald",
    "Jessup",
    "Kilbride",
    "Lockhart",
    "Merriden",
    "Northcote",
    "Ormsby",
]
CREDENTIALS = ["MD", "MD PhD", "MBBS FRCP", "PharmD", "PhD", "MD MPH", "DO"]
PLACES = [
    ("Nordvik", "North-West"),
    ("Harrowgate", "North-West"),
    ("Elmstead", "North-East"),
    ("Caldmoor", "North-East"),
    ("Westbury Vale", "Midlands"),
    ("Ashcombe", "Midlands"),
    ("Port Selwyn", "South"),
    ("Linden Cross", "South"),
]
INSTITUTION_KINDS = [
    "University Hospital",
    "General Hospital",
    "Medical Centre",
    "Cancer Institute",
    "Heart & Vascular Clinic",
    "Rheumatology Centre",
    "Community Health Trust",
]
AREAS = {
    "oncology": ("Medical Oncology", ["NSCLC", "biomarkers", "immunotherapy", "EGFR"]),
    "rheumatology": ("Rheumatology", ["lupus", "rheumatoid arthritis", "biologics", "JAK"]),
    "cardiology": ("Cardiology", ["heart failure", "SGLT2", "lipids", "registry"]),
}
PRODUCTS = {"oncology": "Veltorib", "rheumatology": "Imnuvax", "cardiology": "Cardiflor"}

TOPICS = {
    "oncology": [
        "second-line sequencing after progression on immunotherapy",
        "biomarker testing turnaround in the regional network",
        "real-world outcomes in elderly patients",
        "managing interstitial lung disease signals",
        "design of the phase III extension protocol",
    ],
    "rheumatology": [
        "tapering strategies in stable lupus",
        "fatigue as an under-measured outcome",
        "infection screening before biologics",
        "shared-care arrangements with GPs",
        "patient-reported outcome instruments",
    ],
    "cardiology": [
        "titration schedules in frail patients",
        "renal function monitoring after initiation",
        "registry data on readmissions",
        "nurse-led heart-failure clinics",
        "lipid targets in secondary prevention",
    ],
}
INSIGHTS = {
    InsightCategory.UNMET_NEED: [
        "No validated tool to predict who benefits from early escalation",
        "Patients in rural areas wait months for specialist review",
    ],
    InsightCategory.TREATMENT_PRACTICE: [
        "Starts at a reduced dose in patients over 75",
        "Team now reviews every new start at a weekly MDT",
    ],
    InsightCategory.DATA_GAP: [
        "Wants subgroup data for patients with moderate renal impairment",
        "Asks whether long-term follow-up beyond three years exists",
    ],
    InsightCategory.PERCEPTION: [
        "Finds the medical information line slow to answer",
        "Values the investigator meetings but wants fewer slides",
    ],
    InsightCategory.COMPETITIVE: [
        "Colleagues are enrolling in a competitor's basket trial",
    ],
}
INSIGHT_CATEGORIES = list(INSIGHTS)
FEEDBACK_NEGATIVE = [
    (
        "response times from Medical Information",
        "requests routed through two teams",
        "escalated to MI lead; agreed a direct contact",
    ),
    (
        "too many company contacts",
        "sales and medical visits not coordinated",
        "aligned visit calendar with the account team",
    ),
    ("slide decks at the advisory board", "", ""),
]
FOLLOWUP_ACTIONS = [
    "Send the congress poster on renal subgroups",
    "Share the published extension-study manuscript",
    "Connect with Medical Information on dosing question",
    "Invite to the regional education programme",
    "Send the investigator brochure update",
    "Arrange call with the clinical operations lead",
]
OBJECTIVES = [
    (ObjectiveKind.SCIENTIFIC, "Understand evidence gaps in elderly patients", "interactions", 3),
    (ObjectiveKind.SCIENTIFIC, "Gather feedback on the extension-study design", "interactions", 2),
    (ObjectiveKind.BUSINESS, "Agree a shared-care education session", "milestone", 1),
    (
        ObjectiveKind.SCIENTIFIC,
        "Explore interest in an investigator-initiated study",
        "interactions",
        2,
    ),
    (ObjectiveKind.BUSINESS, "Evaluate satisfaction with MSL support (survey)", "survey score", 8),
]


# Where each KOL's last contact falls against their plan's cadence, by position in a cycle of
# 40 so any territory size gets the same mix: 5 in 40 overdue (12.5%; one of them badly),
# 6 in 40 due within the week (15%), the rest inside their cadence. Spread out so the
# overdue ones are not bunched at the top of an unranked list.
CYCLE = 40
OVERDUE_SLOTS = frozenset({3, 11, 19, 27, 35})
BADLY_OVERDUE_SLOTS = frozenset({19})
DUE_THIS_WEEK_SLOTS = frozenset({5, 13, 21, 24, 30, 38})
CADENCE_DAYS = {Influence.GLOBAL: 30, Influence.NATIONAL: 30, Influence.REGIONAL: 45}
LOCAL_CADENCE_DAYS = 90


def cadence_for(influence: Influence) -> int:
    return CADENCE_DAYS.get(influence, LOCAL_CADENCE_DAYS)


@dataclass
class DemoSummary:
    kols: int = 0
    plans: int = 0
    interactions: int = 0
    followups: int = 0
    adverse_events: int = 0
    unreported_adverse_events: int = 0
    transfers_of_value: int = 0
    negative_feedback: int = 0
    overdue_followups: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        def n(count: int, one: str, many: str) -> str:
            return f"{count:,} {one if count == 1 else many}"

        return [
            n(self.kols, "KOL", "KOLs"),
            n(self.plans, "engagement plan", "engagement plans"),
            n(self.interactions, "interaction", "interactions"),
            n(self.followups, "follow-up", "follow-ups") + f" ({self.overdue_followups:,} overdue)",
            n(self.adverse_events, "adverse-event mention", "adverse-event mentions")
            + f" ({self.unreported_adverse_events:,} not yet reported)",
            n(self.negative_feedback, "negative feedback record", "negative feedback records"),
            n(self.transfers_of_value, "transfer of value", "transfers of value"),
        ]


# What a record's fields are as the store keeps them: (entity name, id, JSON-form fields).
Loaded = tuple[str, str, dict[str, Any]]


class _Rng(random.Random):
    """``random.Random`` with ``choice`` and ``randint`` written as the standard library
    writes them (one ``_randbelow`` call each), minus a Python call apiece: a big seed makes
    millions. Same seed, same numbers: tests/test_demo.py checks it against ``Random``."""

    def choice(self, seq: Any) -> Any:
        return seq[self._randbelow(len(seq))]  # type: ignore[attr-defined]

    def randint(self, a: int, b: int) -> int:
        return a + self._randbelow(b - a + 1)  # type: ignore[attr-defined, no-any-return]


def uuid4_text(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))``, without building a UUID."""
    bits = (bits & ~(0xC000 << 48) | 0x8000 << 48) & ~(0xF000 << 64) | 4 << 76
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Made:
    """A model as the fast generator made it: the values it was given (read back as
    attributes, like a model's) and its fields in JSON form, in declaration order, every
    default filled in: what ``model_dump(mode="json")`` of the validated model gives."""

    __slots__ = ("fields", "model", "values")

    def __init__(
        self, model: type[BaseModel], fields: dict[str, Any], values: dict[str, Any]
    ) -> None:
        self.model = model
        self.fields = fields
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def _json_form(value: Any) -> Any:
    """A generator's value as JSON mode dumps it (only the types the generator uses)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is _Made:
        return value.fields
    if kind is list:
        return [_json_form(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if kind is datetime:
        text = value.isoformat()  # to the second and in UTC: no fraction, "+00:00"
        if value.microsecond or not text.endswith("+00:00"):
            raise ValueError(f"not a UTC instant to the second: {value!r}")
        return text[:-6] + "Z"
    if kind is date:
        return value.isoformat()
    raise TypeError(f"the fast demo build does not write {kind.__name__} values")


class _Spec(NamedTuple):
    """What the fast build writes for one model (see ``_spec``)."""

    template: dict[str, Any]  # every field written, in order, with its default in JSON form
    required: frozenset[str]
    known: frozenset[str]  # the names a caller may give (the record's id included)
    factories: dict[str, Callable[[], Any]]  # defaults made afresh on every call
    custom: bool  # a field has its own serializer: pydantic must dump the model


_CONSTANT_FACTORIES = (list, dict, set)  # their defaults are never changed: shared


@cache
def _spec(model: type[BaseModel]) -> _Spec:
    """A record's sync metadata is the store's to write, not the build's. Only for plain
    models (see ``_check_plain``)."""
    _check_plain(model)
    top = issubclass(model, SyncedRecord)
    template: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    required = set()
    custom = False
    for name, info in model.model_fields.items():
        custom = custom or any(type(m).__name__.endswith("Serializer") for m in info.metadata)
        if top and name in META_FIELDS:
            continue
        factory = info.default_factory
        if info.is_required():
            required.add(name)
            template[name] = None  # always given: the check in ``_make`` makes sure
        elif factory in _CONSTANT_FACTORIES:
            template[name] = _json_form(factory())  # type: ignore[misc]
        elif factory is not None:
            template[name] = None
            factories[name] = factory  # type: ignore[assignment]
        else:
            template[name] = _json_form(copy.deepcopy(info.default))
    decorators = model.__pydantic_decorators__
    custom = custom or bool(decorators.field_serializers or decorators.model_serializers)
    known = frozenset(template) | ({"id"} if top else set())
    return _Spec(template, frozenset(required), known, factories, custom)


def _check_plain(model: type[BaseModel]) -> None:
    if (
        model.__pydantic_post_init__
        or model.__private_attributes__
        or model.model_config.get("extra") == "allow"
        or any(
            f.alias or f.validation_alias or f.serialization_alias
            for f in model.model_fields.values()
        )
    ):
        raise TypeError(f"{model.__name__} is not a plain model: build it with validation")


class DemoBuilder:
    def __init__(
        self, *, kols: int, years: float, seed: int, now: datetime, validate: bool = False
    ) -> None:
        self.rng = _Rng(seed)
        self.validate = validate
        self.n_kols = kols
        self.years = years
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.today = self.now.date()
        self.summary = DemoSummary()
        self._parts: dict[tuple[Any, ...], Any] = {}

    def _make(self, model: type[M], **values: Any) -> M:
        """A model as the generator made it. Unless asked to validate, not a model at all
        but a ``_Made`` holding the fields the validated model would dump (validation and
        dumping were two thirds of a big seed's time): every value here is valid and
        canonical by construction (UTC instants, canonical UUIDs, one-line texts), and
        tests/test_demo.py checks that a validated build stores byte-identical rows and
        changes. Typed as the model: the generator reads back only values it gave."""
        if self.validate:
            return model(**values)
        spec = _spec(model)
        if not (spec.required <= values.keys() <= spec.known):
            raise TypeError(f"{model.__name__}: missing or unknown fields in {sorted(values)}")
        if spec.custom:
            # Rare (a transfer of value): pydantic writes it, with its own serializers.
            dumped = model(**values).model_dump(mode="json")
            fields = {name: dumped[name] for name in spec.template}
        else:
            # The defaults in declaration order, then the values given put in their places.
            fields = spec.template.copy()
            for name, value in values.items():
                kind = type(value)  # most are plain text or numbers: no call for them
                plain = kind is str or kind is int or value is None
                fields[name] = value if plain else _json_form(value)
            for name, factory in spec.factories.items():
                if name not in values:
                    fields[name] = _json_form(factory())
            if "id" in values and "id" not in spec.template:
                del fields["id"]  # a record's id travels beside its fields
        return _Made(model, fields, values)  # type: ignore[return-value]

    def _part(self, model: type[M], **values: Any) -> M:
        """``_make`` for a part many records hold alike (an insight, a feedback): made once
        per set of values and shared, as nothing changes a part once made."""
        key = (model, *values.items())
        part = self._parts.get(key)
        if part is None:
            part = self._parts[key] = self._make(model, **values)
        return part  # type: ignore[no-any-return]

    def uuid(self) -> str:
        return uuid4_text(self.rng.getrandbits(128))

    def records(self, progress: Callable[[int], None] | None = None) -> Iterator[Loaded]:
        """Every record as the store loads it: (entity name, id, fields in JSON form)."""
        # Spread interactions so that larger territories keep ~6 visits per KOL per year
        # on average, with the top tiers seen more often.
        names: dict[type[BaseModel], str] = {m: e.name for m, e in ENTITY_BY_MODEL.items()}
        for index in range(self.n_kols):
            for record in self._kol_family(index):
                if isinstance(record, _Made):
                    yield names[record.model], record.values["id"], record.fields
                else:
                    yield names[type(record)], record.id, dump_fields(record)
            if progress is not None:
                progress(1)  # one more KOL (and its visits, plan, follow-ups) generated

    def _kol(self, index: int) -> Kol:
        rng = self.rng
        area = list(AREAS)[index % 3]
        specialty, tags = AREAS[area]
        # Cycle influence x stance first so that every cell of the grid is present.
        influence = (
            list(Influence)[index % 4]
            if index < 16
            else rng.choices(list(Influence), weights=[1, 3, 6, 10])[0]
        )
        stance = (
            list(Stance)[(index // 4) % 4]
            if index < 16
            else rng.choices(list(Stance), weights=[4, 6, 2, 1])[0]
        )
        stage = rng.choice(list(EngagementStage))
        # Two regional advocates in different cells: a growing relationship lifts one of them.
        if index == 2:
            stage = EngagementStage.GROWING
        elif index == 16:
            influence, stance, stage = Influence.REGIONAL, Stance.ADVOCATE, EngagementStage.PLATEAU
        city, region = PLACES[rng.randrange(len(PLACES))]
        first = FIRST[rng.randrange(len(FIRST))]
        last = LAST[rng.randrange(len(LAST))]
        top_down = rng.random() < 0.7
        return self._make(
            Kol,
            id=self.uuid(),
            name=f"Dr {first} {last}" + (f" {index // 1600}" if index >= 1600 else ""),
            credentials=rng.choice(CREDENTIALS),
            specialty=specialty,
            therapeutic_areas=[area],
            institution=f"{city} {rng.choice(INSTITUTION_KINDS)}",
            city=city,
            region=region,
            country="Demoland",
            territory=region,
            influence=influence,
            stance=stance,
            strengths=rng.sample(list(Strength), k=rng.randint(1, 3)),
            preferred_channels=rng.sample(list(Channel), k=rng.randint(1, 3)),
            identified_by=(
                rng.sample(
                    [
                        IdentificationSource.PUBLICATIONS,
                        IdentificationSource.COMMITTEE_SEAT,
                        IdentificationSource.TRIAL_WORK,
                        IdentificationSource.RENOWNED_CENTRE,
                    ],
                    k=2,
                )
                if top_down
                else [IdentificationSource.PEER_NOMINATION]
            ),
            identification_note=(
                "Guideline panel member; 40+ publications"
                if top_down
                else "Named by 7 of 20 community physicians surveyed"
            ),
            stage=stage,
            tags=rng.sample(tags, k=2),
            profile_note=f"Interested in {rng.choice(TOPICS[area])}.",
            created_at=self.now - timedelta(days=int(365 * self.years) + 30),
        )

    def _plan(self, kol: Kol) -> EngagementPlan:
        rng = self.rng
        start = date(self.today.year, 1, 1)
        chosen = rng.sample(OBJECTIVES, k=rng.randint(1, 3))
        objectives = [
            self._make(
                Objective,
                id=self.uuid(),
                kind=kind,
                description=text,
                measure=measure,
                target=target,
                due=self.today + timedelta(days=rng.randint(-20, 120)),
                met_on=(self.today - timedelta(days=rng.randint(1, 60)))
                if measure != "interactions" and rng.random() < 0.3
                else None,
            )
            for kind, text, measure, target in chosen
        ]
        activities = [
            self._make(
                Activity,
                id=self.uuid(),
                kind=kind,
                description=f"{kind.value.capitalize()} with {kol.name}",
                owner=owner,
                due=self.today + timedelta(days=rng.randint(-30, 150)),
                done_on=self.today - timedelta(days=rng.randint(1, 90))
                if rng.random() < 0.4
                else None,
            )
            for kind, owner in rng.sample(
                [
                    (ActivityKind.VISIT, OwnerRole.MSL),
                    (ActivityKind.ADVISORY_BOARD, OwnerRole.MEDICAL_AFFAIRS),
                    (ActivityKind.EDUCATION, OwnerRole.MSL),
                    (ActivityKind.IIS, OwnerRole.MEDICAL_AFFAIRS),
                    (ActivityKind.CONGRESS_MEETING, OwnerRole.MSL),
                    (ActivityKind.SPEAKING, OwnerRole.MEDICAL_AFFAIRS),
                ],
                k=rng.randint(1, 3),
            )
        ]
        cadence = cadence_for(kol.influence)
        return self._make(
            EngagementPlan,
            id=self.uuid(),
            kol_id=kol.id,
            period_start=start,
            period_end=date(self.today.year, 12, 31),
            objectives=objectives,
            activities=activities,
            cadence_days=cadence,
            lifecycle_phase=rng.choice(
                [LifecyclePhase.LAUNCH, LifecyclePhase.GROWTH, LifecyclePhase.PLATEAU]
            ),
            owner_msl=DEMO_PROFILE.msl_id,
            created_at=self.now - timedelta(days=300),
        )

    def _kol_family(self, index: int) -> Iterator[SyncedRecord]:
        rng = self.rng
        kol = self._kol(index)
        self.summary.kols += 1
        yield kol
        slot = index % CYCLE
        # Overdue and due-soon KOLs always have a plan: their cadence is what is due.
        has_plan = slot in OVERDUE_SLOTS or slot in DUE_THIS_WEEK_SLOTS or rng.random() < 0.85
        plan = self._plan(kol) if has_plan else None
        if plan:
            self.summary.plans += 1
            yield plan
        area = kol.therapeutic_areas[0]
        per_year = {Influence.GLOBAL: 10, Influence.NATIONAL: 9, Influence.REGIONAL: 6}.get(
            kol.influence, 4
        )
        span_days = max(2, int(365 * self.years))
        last = self._last_contact_days_ago(slot, cadence_for(kol.influence), span_days)
        count = max(1, int(rng.gauss(per_year * self.years, 2)))
        earlier = (rng.randint(last + 1, max(last + 1, span_days)) for _ in range(count - 1))
        offsets = sorted({last, *earlier})
        for number, days_ago in enumerate(reversed(offsets)):
            yield from self._interaction(
                kol, plan, area, days_ago, number == len(offsets) - 1, index
            )

    def _last_contact_days_ago(self, slot: int, cadence: int, span_days: int) -> int:
        """Days since the KOL's latest contact, placing them against their cadence."""
        rng = self.rng
        if slot in BADLY_OVERDUE_SLOTS:
            days = cadence + rng.randint(60, 150)
        elif slot in OVERDUE_SLOTS:
            days = cadence + rng.randint(2, 20)
        elif slot in DUE_THIS_WEEK_SLOTS:
            days = cadence - rng.randint(1, 7)
        else:
            days = rng.randint(1, max(1, cadence - 10))
        return max(1, min(days, span_days))

    def _interaction(
        self,
        kol: Kol,
        plan: EngagementPlan | None,
        area: str,
        days_ago: int,
        latest: bool,
        index: int,
    ) -> Iterator[SyncedRecord]:
        rng = self.rng
        when = datetime.combine(
            self.today - timedelta(days=days_ago),
            time(rng.randint(8, 17), rng.choice([0, 15, 30, 45])),
            tzinfo=UTC,
        )
        topic = rng.choice(TOPICS[area])
        category = rng.choice(INSIGHT_CATEGORIES)
        insight = self._part(Insight, category=category, text=rng.choice(INSIGHTS[category]))
        notes = (
            f"Discussed {topic}. {insight.text}. "
            f"Asked how their team currently approaches {rng.choice(TOPICS[area])}."
        )
        feedback = None
        roll = rng.random()
        if roll < 0.08:
            about, cause, response = rng.choice(FEEDBACK_NEGATIVE)
            feedback = self._part(
                Feedback,
                sentiment=Sentiment.NEGATIVE,
                about=about,
                root_cause=cause,
                response=response,
            )
            self.summary.negative_feedback += 1
        elif roll < 0.3:
            feedback = self._part(
                Feedback, sentiment=Sentiment.POSITIVE, about="scientific exchange"
            )
        adverse_event = None
        # The first KOL's latest visit carries an AE mention still inside its 24-hour window.
        if index == 0 and latest:
            when = self.now - timedelta(hours=5)
            notes += (
                " Mentioned a patient on "
                + PRODUCTS[area]
                + " admitted to hospital with a severe rash."
            )
            adverse_event = self._make(
                AdverseEvent,
                day_zero=when,
                patient="adult female, 60s",
                reporter=kol.name,
                product=PRODUCTS[area],
                event="severe rash, hospitalised",
            )
            self.summary.unreported_adverse_events += 1
        elif rng.random() < 0.01:
            notes += f" Reported a case of nausea on {PRODUCTS[area]}; forwarded to PV."
            adverse_event = self._make(
                AdverseEvent,
                day_zero=when,
                reporter=kol.name,
                product=PRODUCTS[area],
                event="nausea",
                reported_at=when + timedelta(hours=3),
                reference=f"PV-{rng.randint(10000, 99999)}",
            )
        if adverse_event:
            self.summary.adverse_events += 1
        med_info = None
        if rng.random() < 0.02:
            med_info = self._part(
                MedInfoRequest,
                question=f"Is there any data on {PRODUCTS[area]} in paediatric patients?",
            )
        transfer = None
        channel = (
            rng.choice(kol.preferred_channels) if kol.preferred_channels else Channel.IN_PERSON
        )
        if channel is Channel.DINNER_MEETING or (index == 1 and latest):
            transfer = self._make(
                TransferOfValue,
                nature="meal",
                amount=Decimal("48.50"),
                currency="EUR",
                date=when.date(),
                recipient=kol.name,
                product=PRODUCTS[area],
            )
            self.summary.transfers_of_value += 1
        objective_id = None
        if plan and plan.objectives and rng.random() < 0.6:
            objective_id = rng.choice(plan.objectives).id
        interaction = self._make(
            Interaction,
            id=self.uuid(),
            kol_id=kol.id,
            msl_id=DEMO_PROFILE.msl_id,
            occurred_at=when,
            channel=channel,
            duration_min=rng.choice([15, 30, 45, 60]),
            objective_id=objective_id,
            notes=notes,
            questions_asked=["How does your team currently decide when to escalate treatment?"],
            insights=[insight],
            feedback=feedback,
            adverse_event=adverse_event,
            med_info_request=med_info,
            transfer_of_value=transfer,
            status=InteractionStatus.SUBMITTED,
            submitted_at=when + timedelta(hours=1) if days_ago else when,
            created_at=when,
        )
        self.summary.interactions += 1
        yield interaction
        if rng.random() < 0.25 or latest:
            due = when.date() + timedelta(days=rng.randint(5, 30))
            # Most promises are kept by their due date and old ones always are; a few recent
            # ones slip and show up as overdue.
            done = due <= self.today and (
                rng.random() < 0.88 or due < self.today - timedelta(days=120)
            )
            self.summary.followups += 1
            if not done and due < self.today:
                self.summary.overdue_followups += 1
            yield self._make(
                FollowUp,
                id=self.uuid(),
                kol_id=kol.id,
                interaction_id=interaction.id,
                action=rng.choice(FOLLOWUP_ACTIONS),
                due=due,
                done=done,
                done_at=datetime.combine(due, time(12), tzinfo=UTC) if done else None,
                created_at=when,
            )


def seed_demo(
    store: Store,
    *,
    kols: int = 150,
    years: float = 2.0,
    seed: int = 7,
    now: datetime | None = None,
    profile: MslProfile | None = DEMO_PROFILE,
    progress: Callable[[int], None] | None = None,
    validate: bool = False,
) -> DemoSummary:
    """Fill ``store`` with a demo territory; returns counts of what was written.
    ``progress`` is called with 1 as each KOL's records are generated."""
    if profile is not None and store.get_profile() is None:
        if profile is DEMO_PROFILE:
            # Each demo store names its changes with its own device id (minted when the
            # store was made): two demo laptops can swap bundles like two real ones.
            profile = profile.model_copy(update={"device_id": store.device_id})
        store.set_profile(profile)
    builder = DemoBuilder(
        kols=kols, years=years, seed=seed, now=now or datetime.now(UTC), validate=validate
    )
    # Millions of short-lived dicts and lists and no reference cycles: the cycle collector
    # would only scan them over and over (3 to 5% of a big seed).
    collecting = gc.isenabled()
    gc.disable()
    try:
        store.bulk_load(builder.records(progress))
    finally:
        if collecting:
            gc.enable()
    return builder.summary
