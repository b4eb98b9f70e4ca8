"""Names the user's code bound before a run to functions the run replaces.

``from time import sleep`` copies the function into the importing module: patching
``time.sleep`` does not reach that name. For a run, every such name is swapped for the
run's version in the user's modules and in every module they reach through their
globals: modules they imported (``import helpers``), and the modules of functions and
classes they imported by name (``from helpers import pause``), however deep. Default
values of those modules' functions (``def wait(nap=time.sleep)``) are swapped too.
The standard library and the harness with the libraries it runs on are left alone:
their calls on an actor's thread already go through the patched modules.

What cannot be reached this way: a module imported for the first time while the run
goes (inside an actor's function), and a name kept somewhere other than a module's
globals or its functions' defaults (a class attribute, a closure, a container).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

# The harness and the libraries it runs every actor on: patched at their modules, and their
# own by-name imports are theirs (the harness's clocks must stay real).
_LEFT_ALONE: Final = frozenset(
    {
        "dnschaos",
        "boto3",
        "botocore",
        "s3transfer",
        "moto",
        "dns",
        "urllib3",
        "werkzeug",
        "responses",
        "jmespath",
        "dateutil",
        "pytest",
        "_pytest",
        "pluggy",
        "hypothesis",
    }
)

Setter = Callable[[Any, str, Any], None]


def _left_alone(name: str) -> bool:
    top = name.split(".", 1)[0]
    return top in _LEFT_ALONE or top in sys.stdlib_module_names or name in sys.builtin_module_names


def reachable(roots: Iterable[str]) -> list[types.ModuleType]:
    """The modules named by ``roots`` (already imported ones; names not imported are
    skipped) and every module reached from their globals, in a stable order."""
    seen: dict[str, types.ModuleType] = {}
    todo = [sys.modules[name] for name in roots if name in sys.modules]
    while todo:
        module = todo.pop()
        name = getattr(module, "__name__", None)
        if not isinstance(name, str) or name in seen or _left_alone(name):
            continue
        seen[name] = module
        for value in list(vars(module).values()):
            found = _module_of(value)
            if found is not None and found.__name__ not in seen:
                todo.append(found)
    return [seen[name] for name in sorted(seen)]


def _module_of(value: Any) -> types.ModuleType | None:
    if isinstance(value, types.ModuleType):
        return value
    if isinstance(value, (types.FunctionType, type)):
        owner = getattr(value, "__module__", None)
        if isinstance(owner, str):
            return sys.modules.get(owner)
    return None


def rebind(modules: Iterable[types.ModuleType], replacement: Mapping[int, Any], put: Setter) -> int:
    """Swap every global of ``modules`` (and every default value of their functions)
    whose identity is a key of ``replacement`` for its value, through ``put(owner, name,
    value)`` (which keeps what it replaced, to put it back). Returns how many it swapped."""
    swapped = 0
    for module in modules:
        for attr, value in list(vars(module).items()):
            if attr.startswith("__"):
                continue
            if id(value) in replacement:
                put(module, attr, replacement[id(value)])
                swapped += 1
            elif isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                swapped += _defaults(value, replacement, put)
    return swapped


def _defaults(fn: types.FunctionType, replacement: Mapping[int, Any], put: Setter) -> int:
    swapped = 0
    if fn.__defaults__ and any(id(v) in replacement for v in fn.__defaults__):
        put(fn, "__defaults__", tuple(replacement.get(id(v), v) for v in fn.__defaults__))
        swapped += 1
    kw = fn.__kwdefaults__
    if kw and any(id(v) in replacement for v in kw.values()):
        put(fn, "__kwdefaults__", {k: replacement.get(id(v), v) for k, v in kw.items()})
        swapped += 1
    return swapped


__all__ = ["reachable", "rebind"]
