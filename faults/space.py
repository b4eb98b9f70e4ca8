"""A scenario's fault space: fault templates whose values are drawn per fuzz case.

In a scenario file, ``[fuzz]`` holds ``max_faults`` and ``[[fuzz.faults]]``
templates. A template is written like a ``[[faults]]`` entry, except that a value
may be a range or a choice:

* ``[low, high]`` (two numbers): drawn uniformly; integers if both are integers;
* ``["a", "b", ...]`` (strings): one of them;
* anything else: used as it is.

``duration`` (a range too) sets ``end = start + duration``. Match keys may be
drawn as well (``match = { actor = ["enactor-a", "enactor-b"] }``).

A case draws up to ``max_faults`` templates (each template at most once) and
concrete values for each. A concrete fault is kept as the text of a ``--fault``
option, so a stored case replays with the command line's own machinery, and a
shrunk case is still one readable line per fault.

Which keys are match keys, and which a shrinker leaves alone, is declared with
the fault kinds (``faults.registry``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from dnschaos.faults import registry


def _is_range(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def inverted_ranges(template: Mapping[str, Any]) -> list[str]:
    """Keys of ``template`` (``match.x`` for a match key) holding a range ``[low, high]``
    with low above high: a typo, not a range to draw from."""
    out = []
    for key, value in template.items():
        inner = value.items() if key == "match" and isinstance(value, Mapping) else ()
        for mkey, mvalue in inner:
            if _is_range(mvalue) and mvalue[0] > mvalue[1]:
                out.append(f"match.{mkey}")
        if _is_range(value) and value[0] > value[1]:
            out.append(str(key))
    return out


def _draw(value: Any, rng: random.Random) -> Any:
    if _is_range(value):
        low, high = value
        if isinstance(low, int) and isinstance(high, int):
            return rng.randint(min(low, high), max(low, high))
        return round(rng.uniform(float(low), float(high)), 3)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value[rng.randrange(len(value))]
    return value


def draw_fault(template: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """One concrete fault (flat: match keys beside the others) from a template."""
    out: dict[str, Any] = {}
    for key in sorted(template):
        if key == "match":
            for mkey in sorted(template["match"]):
                out[mkey] = _draw(template["match"][mkey], rng)
        elif key != "duration":
            out[key] = _draw(template[key], rng)
    if "duration" in template:
        out["end"] = round(
            float(out.get("start", 0.0)) + float(_draw(template["duration"], rng)), 3
        )
    return out


def draw_case(
    templates: Sequence[Mapping[str, Any]], max_faults: int, rng: random.Random
) -> list[dict[str, Any]]:
    if not templates or max_faults <= 0:
        return []
    count = rng.randint(1, min(max_faults, len(templates)))
    chosen = sorted(rng.sample(range(len(templates)), count))
    return [{"name": f"fuzz-{i}", **draw_fault(templates[i], rng)} for i in chosen]


def to_flag(fault: Mapping[str, Any]) -> str:
    """The ``--fault`` text of a concrete fault."""
    parts = []
    for key, value in fault.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = value
        else:
            text = repr(value)
        parts.append(f"{key}={text}")
    return ",".join(parts)


def from_flag(text: str) -> dict[str, Any]:
    """The concrete fault of a ``--fault`` text (values typed as the scenario loader types them)."""
    from dnschaos.errors import UsageError
    from dnschaos.inputs import parse_value

    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--fault {text!r}: {part!r} is not KEY=VALUE")
        if key in out:
            raise UsageError(f"--fault {text!r}: {key} is given twice; give each key once")
        out[key] = parse_value(raw, f"--fault {text!r}: {key}")
    return out


def nested(fault: Mapping[str, Any]) -> dict[str, Any]:
    """The concrete fault as a scenario file's ``[[faults]]`` entry (match keys in ``match``,
    except a kind's own key of the same name, such as a crash's ``actor``)."""
    kind = fault.get("kind")
    kind = kind if isinstance(kind, str) else None
    out: dict[str, Any] = {}
    match: dict[str, Any] = {}
    for key, value in fault.items():
        (match if registry.is_match_key(kind, key) else out)[key] = value
    if match:
        out["match"] = match
    return out


def numeric_keys(fault: Mapping[str, Any]) -> list[str]:
    """Keys whose values a shrinker may make smaller (not the window's start: moving it
    changes when, not how much)."""
    skip = registry.no_shrink_keys()
    return [
        k
        for k, v in fault.items()
        if k not in skip and isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
    ]
