"""Property-based fuzzing of every reader of user input: scenario TOML, result JSON, a
campaign store, ``--fault`` and ``--set`` texts and whole command lines, generated and
mutated from real ones. The property: a reader either accepts its input or refuses it
with a UsageError (exit 2); it never raises anything else (a traceback, exit 3) and never
changes a file it reads.

``DNSCHAOS_FUZZ_EXAMPLES`` sets the examples per reader (5,000 here; ``make fuzz-inputs``
runs more). Examples are derandomized: a failure found here is found again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnschaos.errors import UsageError

ROOT = pathlib.Path(__file__).parents[2]
EXAMPLES = int(os.environ.get("DNSCHAOS_FUZZ_EXAMPLES", "5000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Texts that break readers: syntax, extreme numbers, names no terminal shows the same.
TOKENS = [
    "[", "]", "{", "}", "=", '"', "'", ",", ".", "\n", "[[", "]]", "#", "\\", " ",
    "1e300", "-1e300", "1e308", "-1", "-0.5", "0", "inf", "-inf", "nan", "NaN", "Infinity",
    "99999999999999999999", "9" * 5000, "true", "null", '"\\u0000"', '"\\u202e"',
    '"\U0001f600"', '"\u00e9"', '"a b"', '"../../etc/passwd"', "[" * 300, "]" * 300,
    "{" * 300, '"x"', "[1, 2]", "[5.0, 1.0]", "{}", "[]", "\x00", "\ufeff",
]  # fmt: skip

FLAG_KEYS = [
    "kind", "name", "seconds", "start", "end", "actor", "operation", "service", "code",
    "distribution", "low", "high", "where", "probability", "nth", "every", "duration",
    "rate", "table", "record", "match.actor", "scenario.duration", "limits.max_steps",
    "limits.max_wall_seconds", "limits.max_virtual_seconds", "world.fleet_size",
    "enactors.backoff_base", "enactors.backoff_max", "latency.high", "fuzz.max_faults",
]  # fmt: skip
FLAG_VALUES = [
    *TOKENS, "latency", "error", "crash", "pause", "clock_skew", "enactor-a", "enactor-*",
    "Throttling", "ChangeResourceRecordSets", "route53", "uniform", "fixed", "1", "5.5",
    "0.001", "120", "1e20", "[0.0, 1.0]",
]  # fmt: skip


def _digest(directory: pathlib.Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` after a few edits: slices cut, tokens put in or written over, the end cut."""
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "replace", "delete", "truncate", "nest"]))
        token = draw(st.sampled_from(TOKENS) | st.text(max_size=8))
        if op == "insert":
            text = text[:at] + token + text[at:]
        elif op == "replace":
            end = min(len(text), at + draw(st.integers(1, 12)))
            text = text[:at] + token + text[end:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == "truncate":
            text = text[:at]
        else:
            depth = draw(st.integers(50, 3000))
            text = text[:at] + "[" * depth + "]" * depth + text[at:]
    return text


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**30, -(10**30), 2**63, -1, 0, 1e300, -1e300, 5e-324]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(["\x00", "\u202e", "\U0001f600", "../../x", "delay -5.000s", "sleep 1e300s"]),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data[:5]):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated_json(draw: st.DrawFn, data: Any) -> str:
    """``data`` with a few values replaced, dropped or nested deep, as JSON text (NaN and
    Infinity included), or that text edited as text."""
    data = json.loads(json.dumps(data))
    paths = [p for p in _paths(data) if p]
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(paths))
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            op = draw(st.sampled_from(["set", "drop", "deep"]))
            if op == "drop" and isinstance(parent, dict):
                del parent[path[-1]]
            elif op == "deep":
                value: Any = 1
                for _ in range(draw(st.integers(10, 200))):
                    value = [value]
                parent[path[-1]] = value
            else:
                parent[path[-1]] = draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit took that path away
    text = json.dumps(data)
    if draw(st.booleans()):
        text = draw(mutated(text))
    return text


# ------------------------------------------------------------------ scenario TOML

SCENARIOS = [
    (ROOT / "fixtures" / "scenarios" / "steady-state.toml").read_text(),
    (ROOT / "examples" / "ops_script.toml").read_text(),
]


@FUZZ
@given(data=st.data())
def test_scenario_toml(data: st.DataObject) -> None:
    from dnschaos.scenario.load import load

    text = data.draw(mutated(data.draw(st.sampled_from(SCENARIOS))))
    with contextlib.suppress(UsageError):
        load("fuzzed.toml", text)


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(FLAG_KEYS), st.sampled_from(FLAG_VALUES) | st.text(max_size=6)),
        max_size=6,
    )
)
def test_fault_flag(parts: list[tuple[str, str]]) -> None:
    from dnschaos.scenario.load import fault_from_flag

    with contextlib.suppress(UsageError):
        fault_from_flag(",".join(f"{k}={v}" for k, v in parts), 0)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(FLAG_KEYS), st.sampled_from(FLAG_VALUES)), max_size=3))
def test_set_flag(parts: list[tuple[str, str]]) -> None:
    from dnschaos.cli.common import overrides
    from dnschaos.scenario.load import load

    with contextlib.suppress(UsageError):
        load("fuzzed.toml", SCENARIOS[0], overrides([f"{k}={v}" for k, v in parts]))


# ------------------------------------------------------------------ result JSON


@pytest.fixture(scope="module")
def result_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    from dnschaos.cli import main

    out = tmp_path_factory.mktemp("result") / "result.json"
    argv = ["run", "steady-state", "--strategy", "delay", "--seed", "3", "-q"]
    assert main([*argv, "--set", "scenario.duration=40", "--json", str(out)]) in (0, 1)
    return out.read_text()


def _read_result(path: pathlib.Path) -> None:
    """What replay, shrink and report read of a result before they run anything."""
    from dnschaos.explore.replay import recorded_choices, replayable
    from dnschaos.explore.shrink import Case
    from dnschaos.scenario.spec import RunSpec, load_result

    recorded = load_result(path)
    RunSpec.from_result(recorded, source=str(path))
    replayable(recorded, str(path))
    recorded_choices(recorded, str(path))
    if recorded.get("case") is not None:
        Case.from_json(recorded["case"], str(path))


def test_result_json(result_text: str) -> None:
    # Its first choices only: the schema check takes time in proportion to them, and what
    # is mutated is the same with 30 as with 3,000.
    original = json.loads(result_text)
    original["choices"] = original["choices"][:30]
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "result.json"

        @FUZZ
        @given(mutated_json(original))
        def check(text: str) -> None:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            before = path.read_bytes()
            with contextlib.suppress(UsageError):
                _read_result(path)
            assert path.read_bytes() == before

        path.write_text(result_text)
        _read_result(path)  # the file as written is read
        check()


# ------------------------------------------------------------------ campaign stores


@pytest.mark.parametrize("name", ["campaign.json", "coverage.json"])
def test_campaign_store(campaign_store: pathlib.Path, name: str) -> None:
    from dnschaos.explore.campaign import open_campaign
    from dnschaos.scenario.resolve import build, resolve
    from dnschaos.scenario.spec import RunSpec

    spec = resolve(RunSpec(scenario="steady-state"))
    scenario = build(spec)
    original = json.loads((campaign_store / name).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        copy = pathlib.Path(tmp) / "store"
        copy.mkdir()
        for part in ("campaign.json", "coverage.json"):  # what a resume reads
            shutil.copy(campaign_store / part, copy / part)
        assert open_campaign(spec, 1, copy, resume=True, scenario=scenario).runs > 0

        @FUZZ
        @given(mutated_json(original))
        def check(text: str) -> None:
            (copy / name).write_text(text, encoding="utf-8", errors="surrogatepass")
            before = _digest(copy)
            with contextlib.suppress(UsageError):
                open_campaign(spec, 1, copy, resume=True, scenario=scenario)
            assert _digest(copy) == before

        check()


# ------------------------------------------------------------------ command lines


class Reached(BaseException):
    """A command line that got past every check to the run itself (not run here)."""


FLAGS: dict[str, list[str]] = {
    "run": [
        "--seed", "--variant", "--strategy", "--clock", "--target", "--dns", "--resolver",
        "--fault", "--set", "--json", "--history", "--max-steps", "--max-virtual-seconds",
        "--max-wall-seconds", "--invariant", "--seeds", "--delays", "--pct-depth",
    ],
    "fuzz": [
        "--budget", "--workers", "--seed", "--stop-after", "--strategy", "--shrink-runs",
        "--store", "--json", "--variant", "--guided", "--resume", "--no-shrink",
    ],
    "replay": ["--json", "-q"],
    "shrink": ["--max-runs", "-o", "-q"],
    "report": ["-o", "--history"],
    "explore": ["--json", "--bound", "--seed"],
}  # fmt: skip
ARG_VALUES = [
    *FLAG_VALUES, "steady-state", "incident-2025", "legacy", "safe", "random", "pct", "dfs",
    "sim", "real", "moto", "aws", "embedded", "bind", "0s", "1s", "-5", "0", "/proc/x",
    "/sys/x", "x" * 300, "", "-", "--", "kind=latency,seconds=1", "scenario.duration=1e300",
]  # fmt: skip


@pytest.fixture
def no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything that would run a scenario stops at that point instead."""

    def reached(*_args: Any, **_kwargs: Any) -> Any:
        raise Reached

    import dnschaos.explore.campaign
    import dnschaos.explore.search
    import dnschaos.runner

    monkeypatch.setattr(dnschaos.runner, "run", reached)
    monkeypatch.setattr(dnschaos.explore.campaign, "fuzz", reached)
    monkeypatch.setattr(dnschaos.explore.search, "seeds", reached)
    monkeypatch.setattr(dnschaos.explore.search, "systematic", reached)


@pytest.mark.usefixtures("no_runs")
def test_command_lines(
    capsys: pytest.CaptureFixture[str], result_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dnschaos.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        monkeypatch.chdir(tmp)
        pathlib.Path("result.json").write_text(result_text)
        values = st.sampled_from([*ARG_VALUES, "result.json"]) | st.text(max_size=8)

        @settings(FUZZ, max_examples=max(EXAMPLES // 25, 50))
        @given(
            st.sampled_from(sorted(FLAGS)).flatmap(
                lambda c: st.tuples(
                    st.just(c),
                    st.lists(st.sampled_from(FLAGS[c]) | values, max_size=8),
                )
            )
        )
        def check(command_words: tuple[str, list[str]]) -> None:
            command, words = command_words
            try:
                code = main([command, *words])
            except SystemExit as exc:  # argparse's own refusals
                code = int(exc.code or 0)
            except Reached:
                code = 0
            err = capsys.readouterr().err
            assert code in (0, 1, 2), err
            assert "Traceback" not in err, err
            if code == 2:  # refused: nothing written
                assert sorted(os.listdir(".")) == ["result.json"], os.listdir(".")
            for name in os.listdir("."):
                if name != "result.json":
                    shutil.rmtree(name) if os.path.isdir(name) else os.unlink(name)

        check()
