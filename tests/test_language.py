"""Leading and promotional phrasing is pointed out; ordinary neutral speech is left alone."""

from __future__ import annotations

import re

import pytest

from msl_tui.services.language import (
    check_text,
    is_neutral,
    neutral_rewording,
    sentence_around,
    suggestion_for,
)

CASES = [
    # (text, expected kinds in order)
    ("Don't you agree that the data are compelling?", ["leading"]),
    ("Do not you think this changes practice?", ["leading"]),
    ("Don't you think the results are clear?", ["leading"]),
    ("Wouldn't you say the trial settles it?", ["leading"]),
    ("Wouldn't you agree it is well tolerated?", ["leading"]),
    ("Would you not agree this is useful?", ["leading"]),
    ("Isn't it true that patients prefer oral dosing?", ["leading"]),
    ("Isn't it clear the subgroup benefited?", ["leading"]),
    ("Is it not obvious that adherence improved?", ["leading"]),
    ("Surely you have seen fewer relapses.", ["leading"]),
    ("You must admit the numbers look good.", ["leading"]),
    ("You would agree the burden is lower.", ["leading"]),
    ("As you know, the guideline changed.", ["leading"]),
    ("Obviously the newer agents are easier.", ["leading"]),
    ("Wouldn't it be better to switch earlier?", ["leading"]),
    ("It reduces visits, right?", ["leading"]),
    ("That matches your experience, correct?", ["leading"]),
    ("It is the best treatment available.", ["promotional"]),
    ("A best-in-class profile.", ["promotional"]),
    ("Best in class efficacy", ["promotional"]),
    ("Clinically superior to standard care.", ["promotional"]),
    ("The safest option for elderly patients.", ["promotional"]),
    ("The most effective therapy in its class.", ["promotional"]),
    ("A breakthrough for lupus nephritis.", ["promotional"]),
    ("A revolutionary mechanism.", ["promotional"]),
    ("Some call it a miracle drug.", ["promotional"]),
    ("This is a game-changer for clinics.", ["promotional"]),
    ("Its efficacy is unmatched.", ["promotional"]),
    ("Unrivalled tolerability.", ["promotional"]),
    ("It is clearly better than the alternatives.", ["promotional"]),
    ("It has no side effects.", ["promotional"]),
    ("Completely safe in pregnancy.", ["promotional"]),
    ("Response is guaranteed.", ["promotional"]),
    ("It is the new gold standard.", ["promotional"]),
    ("Surely it is the best choice?", ["leading", "promotional"]),
    # Found by QA 10: curly quotes, tag questions, negative openers, agreement frames.
    ("Don’t you think our drug works better?", ["leading"]),
    ("You're happy with the results of our drug, aren't you?", ["leading"]),
    ("It fits your practice, isn't it?", ["leading"]),
    ("Isn't the efficacy impressive?", ["leading"]),
    ("Shouldn't guidelines recommend Examplimab first?", ["leading"]),
    ("Would you agree it is better tolerated?", ["leading"]),
    ("Wouldn't you agree the data are strong?", ["leading"]),
    ("Can you confirm that patients do better on Examplimab?", ["leading"]),
    ("Do you agree our drug is different?", ["leading"]),
    ("Given its excellent safety, when will you start using it?", ["leading", "leading"]),
    # Neutral: must not be flagged.
    ("What is the best time to reach you?", []),
    ("How do you best like to receive updates?", []),
    ("Which format works best for you?", []),
    ("What would be the best way to follow up?", []),
    ("Patient had a superior vena cava thrombosis.", []),
    ("No side effects were reported in the cohort.", []),
    ("Could you clearly describe the protocol?", []),
    ("What is your experience with dosing?", []),
    ("How does your team decide when to escalate?", []),
    ("What data would help you in practice?", []),
    ("Where do your patients still struggle most?", []),
    ("She discussed the safety data in detail.", []),
    ("All the best with the congress.", []),
    ("To what extent do you agree with the new guideline?", []),
    ("Do you agree or disagree with the change?", []),
    ("Don't forget to send the poster.", []),
    ("Why aren't patients adherent?", []),
]


@pytest.mark.parametrize(("text", "kinds"), CASES, ids=[c[0][:40] for c in CASES])
def test_language_table(text: str, kinds: list[str]) -> None:
    assert [h.kind for h in check_text(text)] == kinds


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_hints_point_at_the_phrase_and_offer_a_rewording() -> None:
    text = "Thanks. Don't you agree the drug is superior?"
    hints = check_text(text)
    assert [text[h.start : h.end] for h in hints] == ["Don't you agree", "superior"]
    assert all(h.suggestion and h.message for h in hints)
    assert hints == sorted(hints, key=lambda h: h.start)


def test_is_neutral() -> None:
    assert is_neutral("How do you see it?")
    assert not is_neutral("Surely you see it?")


REWORDINGS = [
    (
        "Don't you think our drug works better?",
        "How do you see our drug compared with other options?",
    ),
    (
        "Don't you agree the data are superior?",
        "How do you see the data compared with other options?",
    ),
    (
        "In elderly patients, don't you think Veltorib is superior to methotrexate?",
        "In elderly patients, how do you see Veltorib compared with methotrexate?",
    ),
    ("Don't you agree that the data are compelling?", "How would you describe the data?"),
    ("Obviously the newer agents are easier.", "How would you describe the newer agents?"),
    (
        "Isn't it true that patients prefer oral dosing?",
        "What is your view on whether patients prefer oral dosing?",
    ),
    ("It reduces visits, right?", "What is your view on whether it reduces visits?"),
    ("Surely you have seen fewer relapses.", "What have you seen with regard to relapses?"),
    ("Wouldn't it be better to switch earlier?", "How do you weigh the option to switch earlier?"),
    ("Surely it is the best choice?", "How do you see this choice compared with other options?"),
    ("What do you think of our breakthrough therapy?", "What do you think of our therapy?"),
    ("Don't you agree?", "What is your view on this?"),
    (
        "Don’t you think our drug works better?",
        "How do you see our drug compared with other options?",
    ),
    (
        "You're happy with the results of our drug, aren't you?",
        "How would you describe your experience with the results of our drug?",
    ),
    ("Isn't the efficacy impressive?", "How would you describe the efficacy?"),
    (
        "Shouldn't guidelines recommend Examplimab first?",
        "What is your view on whether guidelines should recommend Examplimab first?",
    ),
    # Not "Do you agree our drug is different?": a ranking swapped for another still leads.
    ("Do you agree our drug is superior?", "How do you see our drug compared with other options?"),
    ("Do you agree our drug is different?", "How do you see our drug compared with other options?"),
    (
        "Can you confirm that patients do better on Examplimab?",
        "How do you see patients on Examplimab compared with other options?",
    ),
    ("Given its excellent safety, when will you start using it?", "What is your view on using it?"),
    ("What makes our drug superior?", "What is your view on this?"),
    # A shouted question keeps its casing rather than becoming "oUR DRUG".
    (
        "DON'T YOU THINK OUR DRUG WORKS BETTER?",
        "How do you see OUR DRUG compared with other options?",
    ),
    (
        "How do patients respond? Isn't it slow?",
        "How do patients respond? What is your view on whether it is slow?",
    ),
    ("How do you see it?", "How do you see it?"),
]


@pytest.mark.parametrize(("text", "neutral"), REWORDINGS, ids=[r[0][:40] for r in REWORDINGS])
def test_a_flagged_question_is_reworded_openly(text: str, neutral: str) -> None:
    assert neutral_rewording(text) == neutral


@pytest.mark.parametrize("text", [t for t, kinds in CASES if kinds], ids=lambda t: t[:40])
def test_every_rewording_passes_the_check(text: str) -> None:
    reworded = neutral_rewording(text)
    assert is_neutral(reworded), reworded
    assert reworded[0].isupper() and reworded.endswith(("?", "."))


@pytest.mark.parametrize("text", [t for t, _ in REWORDINGS], ids=lambda t: t[:40])
def test_no_rewording_keeps_a_ranking_or_a_yes_no_frame(text: str) -> None:
    reworded = neutral_rewording(text)
    assert is_neutral(reworded), reworded
    assert not re.search(r"\b(?:superior|better|different|agree|confirm)\b", reworded, re.I)


def test_curly_quotes_are_checked_like_straight_ones() -> None:
    curly = "Isn’t it true that patients prefer oral dosing?"
    [hint] = check_text(curly)
    assert curly[hint.start : hint.end] == "Isn’t it true"
    assert neutral_rewording(curly) == neutral_rewording(curly.replace("’", "'"))


def test_a_leading_hint_in_a_note_suggests_its_sentence_reworded() -> None:
    note = "Discussed renal outcomes. Don't you agree it is the best option?\nQ: next"
    leading, promotional = check_text(note)
    assert sentence_around(note, leading.start, leading.end) == (
        "Don't you agree it is the best option?"
    )
    assert (
        suggestion_for(note, leading) == "How do you see this option compared with other options?"
    )
    assert suggestion_for(note, promotional) == promotional.suggestion
