"""The mutation tool (tools/mutate.py): which mutants it makes, how it draws them, and how it
finds a module's import name under the package-dir mapping."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from tools import mutate

SOURCE = '''"""A module docstring is never mutated."""

from __future__ import annotations

LIMIT: int = 3


def judge(n: int, seen: list[str]) -> str | None:
    """Nor is a function's."""
    if n >= LIMIT and not seen:
        seen.append("é—late")  # a line with characters of more than one byte
        return f"over by {n - LIMIT}"
    return None
'''


def _changes(source: str) -> list[tuple[str, str]]:
    return [
        (m.operator, m.describe(source).split("  ->  ")[1])
        for m in mutate.mutants_of("m.py", source)
    ]


def test_mutants_are_the_slips_of_a_pen_and_leave_docstrings_and_annotations_alone() -> None:
    changes = _changes(SOURCE)
    expected = [
        ("constant", "LIMIT: int = 4"),
        ("compare", "if (n > LIMIT) and not seen:"),
        ("and/or", "if (n >= LIMIT or not seen):"),
        ("negate", "if (not (n >= LIMIT and (not seen))):"),
        ("drop not", "if n >= LIMIT and (seen):"),
        ("delete", "pass  # a line with characters of more than one byte"),
        (
            "string",
            "seen.append(('XX' + \"é—late\"))  # a line with characters of more than one byte",
        ),
        ("return", "return None"),
        ("string", "return ('XX' + f\"over by {n - LIMIT}\")"),
    ]
    for change in expected:
        assert change in changes, change
    # Nothing else: not the docstrings, not the annotations (text, not code), and not
    # `return None` into itself.
    assert len(changes) == len(expected)


def test_every_mutant_parses_and_differs_from_the_original() -> None:
    source = (Path(mutate.ROOT) / "faults" / "matchers.py").read_text()
    original = ast.dump(ast.parse(source))
    mutants = mutate.mutants_of("faults/matchers.py", source)
    assert len(mutants) > 50
    for m in mutants:
        assert ast.dump(ast.parse(m.apply(source))) != original, m


def test_a_pragma_keeps_a_line_out() -> None:
    source = "x = 1 + 2  # pragma: no mutate\ny = 3\n"
    assert _changes(source) == [("constant", "y = 4")]


def test_the_sample_is_spread_over_the_file_and_repeats_with_its_seed() -> None:
    mutants = [mutate.Mutant("m.py", i, "constant", (i, 0), (i, 1), "0") for i in range(1, 91)]
    drawn = mutate.sample(mutants, 9, random.Random(5))
    assert drawn == mutate.sample(mutants, 9, random.Random(5))
    assert drawn != mutate.sample(mutants, 9, random.Random(6))
    # One from each ninth of the file, in order.
    positions = [mutants.index(m) for m in drawn]
    assert all(i * 10 <= p < (i + 1) * 10 for i, p in enumerate(sorted(positions)))
    assert mutate.sample(mutants[:4], 9, random.Random(5)) == mutants[:4]


def test_module_names_follow_the_package_dir_mapping() -> None:
    mapping = {
        "dnschaos": "harness",
        "dnschaos.adapters": "adapters",
        "dnschaos.faults": "faults",
    }
    assert mutate.module_name("harness/sim/scheduler.py", mapping) == "dnschaos.sim.scheduler"
    assert mutate.module_name("adapters/route53/models.py", mapping) == (
        "dnschaos.adapters.route53.models"
    )
    assert mutate.module_name("faults/__init__.py", mapping) == "dnschaos.faults"
    assert mutate.module_name("harness/sim/__init__.py", mapping) == "dnschaos.sim"
    with pytest.raises(SystemExit, match="not under any folder"):
        mutate.module_name("bench/fast_path.py", mapping)


def test_a_config_naming_a_missing_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "mutate.toml"
    config.write_text('[modules]\n"harness/nowhere.py" = ["tests/unit"]\n')
    with pytest.raises(SystemExit, match=r"modules\.'harness/nowhere\.py': no such file"):
        mutate.read_config(config)
    config.write_text('[modules]\n"harness/checkers.py" = ["tests/unit/test_nothing.py"]\n')
    with pytest.raises(SystemExit, match=r"no test path 'tests/unit/test_nothing\.py'"):
        mutate.read_config(config)
    config.write_text("[other]\n")
    with pytest.raises(SystemExit, match=r"needs a \[modules\] table"):
        mutate.read_config(config)
    assert [t.path for t in mutate.read_config(mutate.DEFAULT_CONFIG)][:3] == [
        "harness/sim/scheduler.py",
        "harness/checkers.py",
        "harness/workloads/incident2025/invariants.py",
    ]
