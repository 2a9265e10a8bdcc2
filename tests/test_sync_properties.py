"""Properties of sync: round trips, idempotence, and convergence of several replicas."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from sync_helpers import snapshot

from msl_tui.clock import HybridLogicalClock, now_ms
from msl_tui.models import Influence, Interaction, Kol, MslProfile
from msl_tui.store import Store, sync_log
from msl_tui.store.codec import ENTITIES
from msl_tui.sync.export import export_bundle
from msl_tui.sync.importer import import_bundle
from msl_tui.sync.merge import Change, seen_stamps

WORDS = st.sampled_from(["renal", "dosing", "trial", "Leeds", "York", "data gap", "é ü 漢"])
TEXT = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)


def _profile(store: Store, msl: str, device: str, role: str = "msl") -> Store:
    store.set_profile(MslProfile(msl_id=msl, name=msl, role=role, device_id=device))  # type: ignore[arg-type]
    return store


kol_fields = st.fixed_dictionaries(
    {
        "name": TEXT,
        "city": TEXT,
        "influence": st.sampled_from(list(Influence)),
        "tags": st.lists(st.sampled_from(["oncology", "renal", "rising"]), unique=True),
        "profile_note": TEXT,
    }
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kols=st.lists(kol_fields, min_size=1, max_size=5),
    edits=st.lists(st.tuples(st.integers(0, 4), TEXT), max_size=6),
    deletes=st.lists(st.integers(0, 4), max_size=2),
)
def test_export_then_import_into_an_empty_store_gives_the_same_content(
    tmp_path_factory, kols, edits, deletes
) -> None:
    folder = tmp_path_factory.mktemp("rt")
    src = _profile(Store.memory(), "ana", "laptop-a")
    saved = [src.save(Kol(**fields)) for fields in kols]
    for index, city in edits:
        kol = src.get_kol(saved[index % len(saved)].id)
        assert kol is not None
        src.save(kol.evolve(city=city))
        src.save(
            Interaction(kol_id=kol.id, occurred_at=datetime(2026, 10, 1, tzinfo=UTC), notes=city)
        )
    for index in deletes:
        kol = src.get_kol(saved[index % len(saved)].id)
        if kol is not None and not kol.deleted:
            src.delete(Kol, kol.id)
    path = export_bundle(src, folder, full=True, sign=False).path
    assert path is not None
    dst = Store.memory()
    first = import_bundle(dst, path)
    assert snapshot(dst) == snapshot(src)
    records = sum(len(list(sync_log.iter_rows(src, e, live_only=False))) for e in ENTITIES.values())
    assert first.total().inserted == records
    again = export_bundle(src, folder, full=True, sign=False).path  # a new bundle id, same changes
    second = import_bundle(dst, again)  # type: ignore[arg-type]
    assert second.total().changed() == 0 and second.total().conflicts == 0
    assert snapshot(dst) == snapshot(src)


REPLICAS = {
    "ana-1": ("ana", "laptop-a1", "msl"),
    "ana-2": ("ana", "laptop-a2", "msl"),
    "bob": ("bob", "laptop-b", "msl"),
    "ho": ("ho", "ho-server", "head office"),
}
NAMES = st.sampled_from(list(REPLICAS))


class Replicas(RuleBasedStateMachine):
    """Two MSLs (one on two laptops) and head office edit offline and swap bundles at random."""

    @initialize(roster=st.lists(kol_fields, min_size=1, max_size=3))
    def setup(self, roster: list[dict]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="msl-sync-"))
        self.stores = {n: _profile(Store.memory(), *spec) for n, spec in REPLICAS.items()}
        self.writes: list[str] = []  # every stamp a save produced
        self.pool: list[Path] = []  # every bundle made so far, for replays in any order
        for fields in roster:  # head office's roster reaches everyone first
            self._save("ho", Kol(**fields))
        path = export_bundle(self.stores["ho"], self.folder, sign=False).path
        assert path is not None
        for store in self.stores.values():
            import_bundle(store, path)

    def _live(self, name: str, model: type) -> list:
        store = self.stores[name]
        entity = next(e for e in ENTITIES.values() if e.model is model)
        return [store.get(model, r["id"]) for r in sync_log.iter_rows(store, entity)]

    def _save(self, name: str, record) -> None:
        saved = self.stores[name].save(record)
        self.writes.append(saved.hlc)

    @rule(name=NAMES, fields=kol_fields)
    def create_kol(self, name: str, fields: dict) -> None:
        self._save(name, Kol(**fields))

    @rule(name=NAMES, pick=st.integers(0, 50), notes=TEXT)
    def create_visit(self, name: str, pick: int, notes: str) -> None:
        kols = self._live(name, Kol)
        if kols:
            kol = kols[pick % len(kols)]
            when = datetime(2026, 10, 1, tzinfo=UTC)
            self._save(name, Interaction(kol_id=kol.id, occurred_at=when, notes=notes))

    @rule(
        name=NAMES,
        pick=st.integers(0, 50),
        field=st.sampled_from(["city", "institution", "profile_note", "tags"]),
        value=TEXT,
    )
    def edit_kol(self, name: str, pick: int, field: str, value: str) -> None:
        kols = self._live(name, Kol)
        if kols:
            kol = kols[pick % len(kols)]
            self._save(name, kol.evolve(**{field: [value] if field == "tags" else value}))

    @rule(name=NAMES, pick=st.integers(0, 50), notes=TEXT)
    def edit_visit(self, name: str, pick: int, notes: str) -> None:
        visits = self._live(name, Interaction)
        if visits:
            visit = visits[pick % len(visits)]
            self._save(name, visit.evolve(notes=f"{visit.notes} {notes}"))

    @rule(name=NAMES, pick=st.integers(0, 50), kol=st.booleans())
    def delete(self, name: str, pick: int, kol: bool) -> None:
        model = Kol if kol else Interaction
        records = self._live(name, model)
        if records:
            self.stores[name].delete(model, records[pick % len(records)].id)
            self.writes.append(str(self.stores[name].clock.last))

    @rule(name=NAMES, minutes=st.integers(-30, 30))
    def skew_clock(self, name: str, minutes: int) -> None:
        store = self.stores[name]
        offset = minutes * 60_000
        store.clock = HybridLogicalClock(
            store.device_id, store.clock.last, wall=lambda: now_ms() + offset
        )

    @rule(src=NAMES, dst=NAMES, full=st.booleans())
    def exchange(self, src: str, dst: str, full: bool) -> None:
        path = export_bundle(self.stores[src], self.folder, full=full, sign=False).path
        if path is not None:
            self.pool.append(path)
            import_bundle(self.stores[dst], path)

    @rule(dst=NAMES, pick=st.integers(0, 100))
    def replay(self, dst: str, pick: int) -> None:
        if self.pool:
            import_bundle(self.stores[dst], self.pool[pick % len(self.pool)])

    def teardown(self) -> None:
        try:
            if hasattr(self, "stores"):
                self._converge_and_check()
        finally:
            if hasattr(self, "folder"):
                shutil.rmtree(self.folder, ignore_errors=True)

    def _converge_and_check(self) -> None:
        finals = [
            export_bundle(s, self.folder, full=True, sign=False).path for s in self.stores.values()
        ]
        for store in self.stores.values():
            for path in finals:
                if path is not None:
                    import_bundle(store, path)
        snaps = {n: snapshot(s) for n, s in self.stores.items()}
        first = next(iter(snaps.values()))
        for name, snap in snaps.items():
            assert snap == first, f"replica {name} differs"
        store = next(iter(self.stores.values()))
        changes = [Change.from_row(r) for e in ENTITIES for r in sync_log.iter_changes(store, e)]
        stamps = {c.hlc for c in changes}
        assert set(self.writes) <= stamps, "a write never reached the merged log"
        seen: set[tuple[str, str, str]] = set()
        for c in changes:
            for field, base in c.base.items():
                seen.update((c.record_id, field, s) for s in seen_stamps(base))
        conflicts = {(c[1], c[2], c[3]) for c in snapshot(store)["conflicts"]}
        for c in changes:
            entity = ENTITIES[c.entity]
            row = store.get(entity.model, c.record_id)
            assert row is not None, f"{c.entity} {c.record_id} never became whole"
            stamps_now = sync_log.field_stamps(store, entity, c.record_id) or {}
            for field, value in c.patch.items():
                won = c.hlc in seen_stamps(stamps_now.get(field))
                overwritten_knowingly = (c.record_id, field, c.hlc) in seen
                conflict = (c.record_id, field, c.hlc) in conflicts
                same = getattr(row, field) == entity.model.model_validate(
                    {**row.model_dump(), field: value}
                ).__getattribute__(field)
                assert won or overwritten_knowingly or conflict or same, (c, field)


Replicas.TestCase.settings = settings(max_examples=20, stateful_step_count=30, deadline=None)
TestReplicas = Replicas.TestCase
