"""The fault registry is the one source of fault kinds and their keys.

Every registered kind's declared keys are accepted by a scenario file and by a
``--fault`` flag alike; an unknown key is refused naming the keys the class
declares; fault specs cannot be changed once made.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from typing import Any

import pytest

from dnschaos.faults import FaultState, Nth, kinds, registry
from dnschaos.faults.space import nested, to_flag
from dnschaos.scenario.load import FAULT_KINDS, ScenarioError, fault_from_flag, load

ENDPOINT = "dynamodb.us-east-1.chaos.test"

# The smallest valid fault of each kind (keys that must be given, or that its rules need).
# A kind registered without an entry here fails these tests: add one.
BASE: dict[str, dict[str, Any]] = {
    "latency": {},
    "error": {"code": "Throttling"},
    "hold": {},
    "pause": {"seconds": 5.0},
    "lock-contention": {"endpoint": ENDPOINT, "end": 60.0},
    "clock-skew": {"actor": "enactor-b", "offset": 45.0},
    "crash": {"actor": "enactor-a"},
    "dns-timeout": {},
    "dns-servfail": {},
    "dns-server-down": {"end": 60.0},
}
# Keys whose sample needs another key changed too (a pause has seconds or plans ahead).
WITH: dict[tuple[str, str], dict[str, Any]] = {("pause", "until_plans_ahead"): {"seconds": 0.0}}


def _sample(kind: str, key: registry.Key) -> Any:
    """A valid value for a key, other than its default where that is possible."""
    if key.name in BASE[kind]:
        return BASE[kind][key.name]
    if key.choices:
        return key.choices[-1]
    if key.type is float:
        return 100.0 if math.isinf(key.default) else key.default + 0.5
    if key.type is int:
        return key.default + 2
    return f"sample-{key.name}"


def _toml(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _scenario(entry: dict[str, Any]) -> str:
    lines = [f"{k} = {_toml(v)}" for k, v in entry.items()]
    return "\n".join(
        [
            '[scenario]\nname = "registry"',
            f'[world]\nendpoints = [{{ name = "{ENDPOINT}" }}]',
            "[[faults]]",
            *lines,
        ]
    )


def _from_file(entry: dict[str, Any]) -> Any:
    [fault] = load("registry.toml", _scenario(entry)).faults
    return fault


def _cases() -> list[tuple[str, str]]:
    return [
        (kind, key.name)
        for kind in registry.kinds()
        for key in (*registry.common_keys(), *registry.own_keys(registry.kind_class(kind)))
    ]


def test_the_loader_knows_exactly_the_registered_kinds() -> None:
    assert registry.kinds() == FAULT_KINDS
    assert set(BASE) == set(registry.kinds())
    classes = {
        cls
        for _, cls in inspect.getmembers(kinds, inspect.isclass)
        if issubclass(cls, kinds.Fault) and cls is not kinds.Fault
    }
    assert classes == {registry.kind_class(k) for k in registry.kinds()}, "every kind registered"


@pytest.mark.parametrize(("kind", "name"), _cases())
def test_every_declared_key_is_accepted_by_a_file_and_by_a_flag(kind: str, name: str) -> None:
    cls = registry.kind_class(kind)
    key = next(k for k in registry.keys_of(cls) if k.name == name)
    value = _sample(kind, key)
    entry = {"name": "f", "kind": kind, **BASE[kind], **WITH.get((kind, name), {}), name: value}
    from_file = _from_file(entry)
    from_flag = fault_from_flag(to_flag(entry), 0)
    assert type(from_file) is cls and getattr(from_file, name) == value
    assert from_flag == from_file


@pytest.mark.parametrize("kind", registry.kinds())
def test_an_unknown_key_is_refused_naming_the_keys_the_class_declares(kind: str) -> None:
    cls = registry.kind_class(kind)
    fields = {f.name for f in dataclasses.fields(cls)} - {"name", "matcher"}
    allowed = ", ".join(sorted({"name", "kind", "match", *fields}))
    entry = {"kind": kind, **BASE[kind], "bogus": 1}
    with pytest.raises(
        ScenarioError, match=f"faults\\[0\\].bogus: unknown key; allowed here: {allowed}$"
    ):
        _from_file(entry)
    with pytest.raises(ScenarioError, match=f"bogus: unknown key; allowed here: {allowed}$"):
        fault_from_flag(to_flag(entry), 0)


@pytest.mark.parametrize("kind", registry.kinds())
def test_fault_specs_are_immutable(kind: str) -> None:
    fault = _from_file({"kind": kind, **BASE[kind]})
    for f in dataclasses.fields(fault):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(fault, f.name, getattr(fault, f.name))
    hash(fault)  # frozen all the way down: matchers included
    with pytest.raises(dataclasses.FrozenInstanceError):
        Nth(2).n = 3  # type: ignore[misc]


def test_a_kinds_own_key_is_not_taken_for_a_match_key() -> None:
    crash = fault_from_flag("kind=crash,actor=enactor-a,start=30,end=31", 0)
    assert isinstance(crash, kinds.Crash) and crash.actor == "enactor-a"
    assert str(crash.matcher) == "always"
    slow = fault_from_flag("kind=latency,actor=enactor-c,seconds=4", 0)
    assert str(slow.matcher) == "actor=enactor-c"
    assert nested({"kind": "clock-skew", "actor": "b", "offset": 1.0, "service": "route53"}) == {
        "kind": "clock-skew",
        "actor": "b",
        "offset": 1.0,
        "match": {"service": "route53"},
    }


def test_run_state_is_kept_apart_from_the_specs() -> None:
    a = kinds.Latency("same", seconds=2.0)
    b = kinds.Latency("same", seconds=2.0)
    assert a == b
    state = FaultState([a, b])
    state.activate(a)
    assert state.is_active(a) and not state.is_active(b), "equal specs are separate faults"
    other = FaultState([a, b])
    assert not other.is_active(a), "one run's activations are not another's"
    state.heal(a)
    assert not state.any_active()
