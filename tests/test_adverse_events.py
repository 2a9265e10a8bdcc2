"""Possible adverse events in a note are found so the MSL can report them within 24 h."""

from __future__ import annotations

import pytest

from msl_tui.services.adverse_events import detect_adverse_events, mentions_adverse_event

TRIGGERS = [
    ("A patient developed a rash after two doses.", "side effect"),
    ("She reported nausea on the higher dose.", "side effect"),
    ("Several side effects came up in clinic.", "side effect"),
    ("He had an adverse reaction to the infusion.", "side effect"),
    ("One case of anaphylaxis last month.", "side effect"),
    ("Possible liver injury in an elderly patient.", "side effect"),
    ("A patient was hospitalised overnight.", "hospitalisation"),
    ("The patient was hospitalized last week.", "hospitalisation"),
    ("She was admitted to hospital with fever.", "hospitalisation"),
    ("An emergency admission after the second cycle.", "hospitalisation"),
    ("A patient became pregnant while on treatment.", "pregnancy exposure"),
    ("Exposure during pregnancy was mentioned.", "pregnancy exposure"),
    ("An accidental overdose at home.", "overdose"),
    ("There was some misuse of the pen device.", "misuse"),
    ("Patients were using it off-label use in children.", "misuse"),
    ("For two patients it didn't work at all.", "lack of effect"),
    ("It stopped working after six months.", "lack of effect"),
    ("He described a lack of efficacy in smokers.", "lack of effect"),
    ("The drug was not effective in her case.", "lack of effect"),
    ("One patient died during the study period.", "death"),
    ("A fatal outcome was reported by a colleague.", "death"),
    ("The nurse gave the wrong dose.", "medication error"),
    ("There was a dosing error on the ward.", "medication error"),
    ("She felt the device harmed a patient.", "harm"),
]
QUIET = [
    "No side effects reported so far.",
    "No adverse events were discussed.",
    "A side-by-side comparison of the two trials.",
    "Met the hospital pharmacy team.",
    "Discussed the dose-finding study design.",
    "Effective communication with GPs is key.",
    "The pregnancy registry design was reviewed.",
    "Talked about renal outcomes and biomarkers.",
    "Without any side effects in the cohort.",
    "She denies adverse reactions in her patients.",
]


@pytest.mark.parametrize(("text", "category"), TRIGGERS, ids=[t[:30] for t, _ in TRIGGERS])
def test_possible_adverse_events_are_found(text: str, category: str) -> None:
    mentions = detect_adverse_events(text)
    assert category in [m.category for m in mentions]
    assert all(text[m.start : m.end] == m.phrase for m in mentions)


@pytest.mark.parametrize("text", QUIET, ids=[t[:30] for t in QUIET])
def test_negations_and_look_alikes_stay_quiet(text: str) -> None:
    assert not mentions_adverse_event(text)


def test_the_table_is_large_enough() -> None:
    assert len(TRIGGERS) + len(QUIET) >= 30
