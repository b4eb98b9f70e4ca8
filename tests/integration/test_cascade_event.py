"""cascade-2025 end to end: the whole 15.5-hour event through the CLI, its report, and
the mitigations side by side (on a shortened event, so that the test stays quick)."""

from __future__ import annotations

import json
import pathlib
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest

from dnschaos.cli import main
from dnschaos.workloads.incident2025.downstream.compare import against, lines, row
from dnschaos.workloads.incident2025.downstream.phases import ORDER, REFERENCE

SCHEMA = json.loads(resources.files("dnschaos").joinpath("result.schema.json").read_text())


@pytest.fixture(scope="module")
def event(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    d = tmp_path_factory.mktemp("cascade")
    result, history = d / "out.json", d / "history.jsonl"
    code = main(["run", "cascade-2025", "--json", str(result), "--history", str(history), "-q"])
    assert code == 1  # the legacy race is a violation; the cascade follows it
    return {"result": result, "history": history, "dir": d}


def _phases(path: pathlib.Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    jsonschema.validate(data, SCHEMA)
    phases: dict[str, Any] = data["workloads"]["incident-2025"]["cascade"]["phases"]
    return phases


def test_the_event_reproduces_the_order_and_proportions_of_2025(
    event: dict[str, pathlib.Path],
) -> None:
    phases = _phases(event["result"])
    assert set(phases) == set(ORDER)
    for name, phase in phases.items():
        assert phase["minutes"] is not None and phase["minutes"][1] is not None, name
        assert 0.5 <= phase["ratio"] <= 2.0, (name, phase)
    # Phases begin in INCIDENT.md's order, and end in it.
    for edge in (0, 1):
        ours = sorted(ORDER, key=lambda n: (phases[n]["minutes"][edge], ORDER.index(n)))
        theirs = sorted(ORDER, key=lambda n: (REFERENCE[n][edge], ORDER.index(n)))
        assert ours == theirs, edge


def test_the_report_plots_the_phases_beside_2025(event: dict[str, pathlib.Path]) -> None:
    page = event["dir"] / "report.html"
    args = ["report", str(event["result"]), "--history", str(event["history"])]
    assert main([*args, "-o", str(page)]) == 0
    html = page.read_text()
    assert "The cascade" in html and "2025 (minutes after 11:48 PM)" in html
    assert len(re.findall(r"data:image/png;base64,", html)) == 1  # the cascade's phases
    assert 'id="timeline-data"' in html  # and the timeline of the race, drawn in the page
    for name in ORDER:
        assert f"<td>{name}</td>" in html
    png = event["dir"] / "cascade.png"
    assert main([*args, "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_shows_a_mitigation_comparison(event: dict[str, pathlib.Path]) -> None:
    data = json.loads(event["result"].read_text())
    base = row([], data["workloads"]["incident-2025"]["cascade"])
    throttled = row(["dwfm-throttle"], data["workloads"]["incident-2025"]["cascade"])
    throttled["recovery_minutes"] = base["recovery_minutes"] - 100.0
    data["mitigation_comparison"] = against(base, [base, throttled])
    jsonschema.validate(data, SCHEMA)
    compared = event["dir"] / "compared.json"
    compared.write_text(json.dumps(data))
    args = ["report", str(compared), "--history", str(event["history"])]
    page, png = event["dir"] / "compared.html", event["dir"] / "compared.png"
    assert main([*args, "-o", str(page)]) == 0
    assert main([*args, "-o", str(png)]) == 0
    html = page.read_text()
    assert "Mitigations side by side" in html
    assert "<td>dwfm-throttle</td>" in html and "<td>100</td>" in html


def test_mitigations_side_by_side_share_the_race_and_say_what_changed() -> None:
    from dnschaos.runner import run
    from dnschaos.scenario.spec import RunSpec
    from dnschaos.workloads.incident2025.mitigations import compare

    # Four hours: the race, the leases lost, DNS back; enough for DWFM's levers to show.
    short = RunSpec(
        "cascade-2025",
        variant="legacy",
        seed=1,
        stop_on_violation=False,
        overrides=(("scenario.duration", 4 * 3600.0),),
    )
    baseline = run(short)
    said: list[str] = []
    rows = compare(
        short, baseline.workloads["incident-2025"]["cascade"], workers=2, progress=said.append
    )
    assert [r["mitigations"] for r in rows][:2] == [[], ["dwfm-throttle"]]
    assert len(rows) == 6 and said
    base, throttle = rows[0], rows[1]
    # Every variant lived through the same race.
    for r in rows:
        assert (
            r["phase_minutes"]["dynamodb-unreachable"]
            == base["phase_minutes"]["dynamodb-unreachable"]
        )
    assert base["measures"]["leases_lost_again"] > 0  # the collapse, unmitigated
    assert throttle["measures"]["leases_lost_again"] == 0
    assert throttle["measure_changes"]["leases_lost_again"] < 0
    printed = "\n".join(lines(rows))
    assert "dwfm-throttle" in printed and "leases lost again 0 (-" in printed


def test_compare_mitigations_refuses_a_mitigated_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["run", "cascade-2025", "--compare-mitigations", "--mitigation", "dwfm-throttle", "-q"]
    )
    assert code == 2
    assert "drop --mitigation" in capsys.readouterr().err


def test_the_cascade_benchmark_reads_the_phases_of_a_run() -> None:
    """``bench/cascade_event.py`` times runs in a child process and reads the cascade out of
    each result: it must find it where a result keeps it (it once looked elsewhere and
    failed). Its first-10-minutes mode, the quickest."""
    import importlib.util

    path = pathlib.Path(__file__).resolve().parents[2] / "bench" / "cascade_event.py"
    spec = importlib.util.spec_from_file_location("cascade_event_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.sample("race", 0)
    assert out["phases"] == list(REFERENCE)
    assert re.fullmatch(r"[0-9a-f]{64}", out["digest"]) and out["steps"] > 0
