"""Result schema, reports (HTML and PNG), and the legacy story in them."""

from __future__ import annotations

import json
import pathlib
import re
from importlib import resources

import jsonschema
import pytest

from dnschaos.cli import main

SCHEMA = json.loads(resources.files("dnschaos").joinpath("result.schema.json").read_text())
FAST = ["--set", "script.behind=12", "--set", "script.cleanup_window=10"]


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    d = tmp_path_factory.mktemp("scripted")
    out = {}
    for variant in ("legacy", "safe"):
        result, history = d / f"{variant}.json", d / f"{variant}.jsonl"
        main(
            [
                "run",
                "incident-2025-scripted",
                "--variant",
                variant,
                "--json",
                str(result),
                "--history",
                str(history),
                "-q",
                *FAST,
            ]
        )
        out[variant], out[f"{variant}-history"] = result, history
    return out


def test_every_kind_of_result_matches_the_schema(
    tmp_path: pathlib.Path, scripted: dict[str, pathlib.Path]
) -> None:
    sim = tmp_path / "sim.json"
    main(["run", "incident-2025", "--variant", "legacy", "--seed", "3", "--json", str(sim), "-q"])
    real = tmp_path / "real.json"
    main(
        [
            "run",
            "incident-2025",
            "--variant",
            "safe",
            "--clock",
            "real",
            "--time-scale",
            "0.02",
            "--json",
            str(real),
            "-q",
        ]
    )
    with_dns = tmp_path / "dns.json"
    main(["run", "incident-2025-dns", "--seed", "4", "--json", str(with_dns), "-q"])
    assert json.loads(with_dns.read_text())["dns"]["endpoints"]
    for path in (sim, real, with_dns, scripted["legacy"], scripted["safe"]):
        jsonschema.validate(json.loads(path.read_text()), SCHEMA)


def test_report_of_a_dns_run_plots_what_clients_saw(tmp_path: pathlib.Path) -> None:
    result = tmp_path / "dns.json"
    assert main(["run", "incident-2025-dns", "--seed", "4", "--json", str(result), "-q"]) == 1
    page = tmp_path / "report.html"
    assert main(["report", str(result), "-o", str(page)]) == 0
    html = page.read_text()
    assert "endpoint-never-empty-client" in html
    impact = re.search(r'<section id="impact".*?</section>', html, re.S)
    assert impact is not None and "What clients saw (server embedded" in impact.group(0)
    assert "without addresses from t=" in impact.group(0)
    assert "clients dynamodb.us-east-1.chaos.test [authoritative]" in html  # its timeline lane


def test_schema_rejects_what_it_should() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"scenario": "x"}, SCHEMA)


def test_legacy_report_names_both_enactors_and_the_decisive_order(
    tmp_path: pathlib.Path, scripted: dict[str, pathlib.Path]
) -> None:
    html = tmp_path / "report.html"
    assert (
        main(
            [
                "report",
                str(scripted["legacy"]),
                "--history",
                str(scripted["legacy-history"]),
                "-o",
                str(html),
            ]
        )
        == 0
    )
    text = html.read_text()
    story = re.search(r"<ol class='story'>(.*?)</ol>", text, re.S)
    assert story is not None
    lines = [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li.*?</li>", story.group(1))]
    decisive = [
        "enactor-c checked plan 100",
        "enactor-a flipped the root to plan 112",
        "enactor-c flipped the root to plan 100",
        "enactor-a cleaned up: deleted plan 100, the ACTIVE tree",
    ]
    where = [next(i for i, line in enumerate(lines) if key in line) for key in decisive]
    assert where == sorted(where), lines
    assert "FAIL" in text and "endpoint-never-empty" in text


def test_safe_report_is_a_pass_with_the_same_plots(
    tmp_path: pathlib.Path, scripted: dict[str, pathlib.Path]
) -> None:
    html = tmp_path / "safe.html"
    assert (
        main(
            [
                "report",
                str(scripted["safe"]),
                "--history",
                str(scripted["safe-history"]),
                "-o",
                str(html),
            ]
        )
        == 0
    )
    text = html.read_text()
    assert "PASS" in text and "there is no violation to tell" in text
    assert 'id="timeline-data"' in text and "every invariant held" in text


def test_report_is_self_contained_and_its_timeline_inline(
    tmp_path: pathlib.Path, scripted: dict[str, pathlib.Path]
) -> None:
    html = tmp_path / "r.html"
    main(
        [
            "report",
            str(scripted["legacy"]),
            "--history",
            str(scripted["legacy-history"]),
            "-o",
            str(html),
        ]
    )
    text = html.read_text()
    # Nothing to fetch: no external scripts, styles, images or fonts; links stay in the page.
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text)
    assert "@import" not in text and not re.search(r"url\((?!#)", text)
    data = re.search(r'<script type="application/json" id="timeline-data">(.*?)</script>', text)
    assert data is not None
    drawn = json.loads(data.group(1))
    assert {lane["label"] for lane in drawn["lanes"]} >= {"enactor-a", "enactor-c"}
    assert drawn["focus"][0] <= drawn["violations"][0][0] <= drawn["focus"][1]


def test_png_on_its_own_and_replay_rebuilds_the_history(tmp_path: pathlib.Path) -> None:
    result = tmp_path / "sim.json"
    main(
        ["run", "incident-2025", "--variant", "legacy", "--seed", "3", "--json", str(result), "-q"]
    )
    png = tmp_path / "timeline.png"
    assert main(["report", str(result), "-o", str(png)]) == 0  # no --history: replayed
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "/no/such.json", "-o", "x.html"], "no such file"),
        (["report", "README.md", "-o", "x.html"], "not JSON"),
        (["report", "pyproject.toml", "-o", "x.pdf"], "the report is .html"),
    ],
)
def test_report_input_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_a_real_clock_result_needs_its_history(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real.json"
    main(
        [
            "run",
            "incident-2025",
            "--variant",
            "safe",
            "--clock",
            "real",
            "--time-scale",
            "0.02",
            "--json",
            str(real),
            "-q",
        ]
    )
    capsys.readouterr()
    assert main(["report", str(real), "-o", str(tmp_path / "r.html")]) == 2
    assert "give its history with --history" in capsys.readouterr().err
