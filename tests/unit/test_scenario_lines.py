"""A scenario error names the line of the key: found again in the file's text, or not at
all (no line is better than a wrong one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnschaos.errors import UsageError
from dnschaos.scenario.lines import line_of
from dnschaos.scenario.resolve import load_scenario

TEXT = """\
# a comment
[scenario]
name = "lines"
duration = 60

[[world.zones]]
name = "example.com"

[[world.zones]]
name = "example.net"
records = [
  { name = "a.example.net", type = "A", ttl = 60, values = ["192.0.2.1"] },
  { name = "b.example.net", type = "A", ttl = 60, values = ["192.0.2.2"], weight = 5 },
]

[[actors]]
name = "one"
function = "mod:one"
args = { color = "blue" }

[[actors]]
name = "two"
function = "mod:two"
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("scenario.duration", 4),
        ("scenario.name", 3),
        ("scenario.seed", 2),  # absent: the table that should hold it
        ("world.zones[0].name", 7),
        ("world.zones[1].name", 10),
        ("world.zones[1].records[1].weight", 13),  # written once in the array
        ("world.zones[1].records[0].ttl", 11),  # written twice: the array's line
        ("actors[1].function", 23),
        ("actors[0].args.color", 19),
        ("faults[0].kind", None),
    ],
)
def test_the_line_of_a_key(tmp_path: Path, path: str, line: int | None) -> None:
    source = tmp_path / "s.toml"
    source.write_text(TEXT)
    assert line_of(str(source), path) == line


def test_no_file_no_line() -> None:
    assert line_of("incident-2025", "scenario.duration") is None


def test_a_loader_error_carries_the_line(tmp_path: Path) -> None:
    source = tmp_path / "s.toml"
    source.write_text(TEXT.replace("duration = 60", "durration = 60").replace(", weight = 5", ""))
    with pytest.raises(UsageError, match=rf"^{source}:4: scenario\.durration: unknown key"):
        load_scenario(str(source))
