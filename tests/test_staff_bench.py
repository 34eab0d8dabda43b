"""`linli bench-staff --gov`: the simulated staff loop on the tiny gov sets of tests/data."""

import json
from pathlib import Path

import pytest

from bot.cli import main

GOV = Path(__file__).resolve().parent / "data" / "gov"


def test_the_staff_loop_answers_the_queued_questions_it_has_text_for(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-staff", "--gov", str(GOV), "--json"]) == 0
    results = {r["set"]: r for r in json.loads(capsys.readouterr().out)}
    letters, notices = results["letters"], results["notices"]
    # The one letter queued has no reply in the set: nothing to answer it with.
    assert letters["queue_groups"] == 1 and letters["levels"][-1]["staff_answers"] == 0
    # The first notice queued gets its answer span as a staff answer, and is then answered
    # from it, with the right source.
    last = notices["levels"][-1]
    assert last["staff_answers"] == 1
    assert last["staffed_groups_questions"] == {"n": 1, "answered": 1.0, "right": 1.0}
    assert [row["level"] for row in notices["levels"]] == [0, 1, 5, 10]
