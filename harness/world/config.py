"""The world a user describes and the functions they bring, as plain frozen data.

Functions are named ``module:function`` (``mypkg.ops:main``) and imported when a run
is assembled, so a :class:`~dnschaos.scenario.spec.RunSpec` of the scenario that names them
rebuilds the same run. A :class:`~dnschaos.Simulation` may also hand in callables
directly; those are kept as they are.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from dnschaos.checkers import NO_ACTOR_ERROR
from dnschaos.errors import UsageError
from dnschaos.keys import name_problem

WHEN: Final = ("step", "end")

Ref = str | Callable[..., Any]  # "module:function", or the function itself


@dataclass(frozen=True)
class AliasSpec:
    """An alias record's target: a name in a zone of the world (``zone`` is its name) or
    in another hosted zone (``zone`` is that zone's id, e.g. a load balancer's)."""

    name: str
    zone: str
    evaluate_target_health: bool = False


@dataclass(frozen=True)
class RecordSpec:
    """One record set a zone starts with: plain values or an alias, and for a weighted
    set its identifier and weight."""

    name: str
    type: str
    ttl: int = 300
    values: tuple[str, ...] = ()
    set_identifier: str | None = None
    weight: int | None = None
    alias: AliasSpec | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": self.name, "Type": self.type}
        if self.set_identifier is not None:
            out["SetIdentifier"] = self.set_identifier
            out["Weight"] = self.weight
        if self.alias is not None:
            out["AliasTarget"] = {
                "HostedZoneId": self.alias.zone,
                "DNSName": self.alias.name,
                "EvaluateTargetHealth": self.alias.evaluate_target_health,
            }
        else:
            out["TTL"] = self.ttl
            out["ResourceRecords"] = [{"Value": v} for v in self.values]
        return out


def record_problem(rec: RecordSpec, zone: str) -> tuple[str, str] | None:
    """What is wrong with an initial record of ``zone``, as (key, what is wanted), else
    None: the rules the strict Route 53 layer applies to a change (values or an alias, not
    both; a weight exactly when there is a set identifier; names, values and TTL)."""
    from dnschaos.adapters.route53.models import rrset_problem

    if rec.alias is None and not rec.values:
        return "values", "a non-empty list of strings, or an alias table"
    if rec.alias is not None and rec.values:
        return "alias", "either values or an alias, not both"
    if (rec.set_identifier is None) != (rec.weight is None):
        return "weight", "set_identifier and weight together (a weighted set), or neither"
    if rec.weight is not None and not 0 <= rec.weight <= 255:
        return "weight", "an integer from 0 to 255"
    problem = rrset_problem(rec.to_api(), zone)
    if problem is not None:
        return "name" if "DNS name" in problem or "Domain" in problem else "values", (
            f"what Route 53 accepts ({problem})"
        )
    return None


@dataclass(frozen=True)
class ZoneSpec:
    name: str
    records: tuple[RecordSpec, ...] = ()

    @property
    def fqdn(self) -> str:
        return self.name.rstrip(".") + "."


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: a string hash key, an optional string range key, and its items
    (plain values: strings, numbers, booleans, lists and tables)."""

    name: str
    key: str = "pk"
    sort_key: str | None = None
    items: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ActorSpec:
    """One actor of a run: ``function`` is ``fn(ctx)`` or ``fn()``; with ``args`` it is a
    factory, called with them, that returns the actor function (how a scenario names a
    built-in actor: ``dnschaos.workloads.incident2025.actors:enactor`` with ``variant="safe"``).

    ``bind``: boto3, time, random and threads are bound to the run on the actor's thread
    (code that takes everything from ``ctx`` does not need it, and a DNS probe must
    not have it: dnspython times its sockets with ``time.time``). ``judge_errors``: an
    uncaught exception is an ``actor-error`` entry for the invariants; otherwise the
    run ends as a harness error (the harness's own models). ``harness``: the fault
    layer's own actor, whose calls are recorded and scheduled but neither slowed nor
    faulted."""

    name: str
    function: Ref
    args: tuple[tuple[str, Any], ...] = ()
    bind: bool = True
    judge_errors: bool = True
    harness: bool = False

    def load(self) -> Callable[..., Any]:
        """The actor function (a factory's, called with ``args``)."""
        what = f"actor {self.name}"
        fn = load_ref(self.function, what)
        if not self.args:
            return fn
        try:
            made = fn(**dict(self.args))
        except TypeError as exc:
            keys = ", ".join(k for k, _ in self.args)
            raise UsageError(f"{what}: args ({keys}) do not fit {self.function!r}: {exc}") from None
        if not callable(made):
            raise UsageError(
                f"{what}: {self.function!r} called with args returned {made!r}, not an actor "
                "function (with args, function is a factory that returns fn(ctx))"
            )
        return made  # type: ignore[no-any-return]


@dataclass(frozen=True)
class InvariantSpec:
    """A user invariant: after every step on a view of the world (``when="step"``), or
    once over the whole history (``when="end"``); None: as the function declares (its
    ``when`` attribute, or its factory's result's), else after every step. With ``args``
    the function is a factory, called with them, that returns the invariant
    (``never_empty(name, type)``)."""

    function: Ref
    name: str = ""
    when: str | None = None
    args: tuple[tuple[str, Any], ...] = ()

    @property
    def named(self) -> bool:
        """It names an invariant of the scenario (``active-plan-never-deleted``), not a
        function of the user's."""
        return isinstance(self.function, str) and not is_ref(self.function)

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if isinstance(self.function, str):
            return self.function.rsplit(":", 1)[-1].replace("_", "-")
        name = getattr(self.function, "__name__", None) or type(self.function).__name__
        return str(name).replace("_", "-")


@dataclass(frozen=True)
class WorldSpec:
    """The world a scenario describes for the user's own code: hosted zones and tables with
    their first contents, the user's actors and invariants, a setup function. Empty for a
    scenario that only runs workloads."""

    zones: tuple[ZoneSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    actors: tuple[ActorSpec, ...] = ()
    invariants: tuple[InvariantSpec, ...] = ()
    setup: Ref | None = None
    no_actor_error: bool = True  # the default invariant; switch it off to judge errors yourself
    modules: tuple[str, ...] = field(default=())  # the user's modules named by refs
    paths: tuple[str, ...] = ()  # put on sys.path first: the scenario file's folder

    def importable(self) -> None:
        """Put the scenario file's folder on ``sys.path``: its modules may sit beside it."""
        for path in self.paths:
            if path not in sys.path:
                sys.path.insert(0, path)

    @property
    def described(self) -> bool:
        """Whether the scenario describes anything here (a run then provisions it, judges
        its invariants and records its end state)."""
        return bool(self.zones or self.tables or self.actors or self.invariants or self.setup)

    def actor_names(self) -> list[str]:
        return sorted(a.name for a in self.actors)

    def check_names(self) -> list[str]:
        names = [i.label for i in self.invariants]
        if self.no_actor_error:
            names.append(NO_ACTOR_ERROR)
        return names


def check_actor_name(name: str) -> str | None:
    """What is wrong with an actor's name, or None: the names of :mod:`dnschaos.keys` (a
    thread an actor starts is named ``name/1``, so the name itself holds no slash)."""
    return name_problem(name)


def is_ref(text: str) -> bool:
    """``module:function``: a colon, no path separator, not a .toml file."""
    return ":" in text and "/" not in text and "\\" not in text and not text.endswith(".toml")


def load_ref(ref: Ref, what: str) -> Callable[..., Any]:
    """The function a ``module:function`` names (or the callable itself)."""
    if not isinstance(ref, str):
        if not callable(ref):
            raise UsageError(f"{what}: {ref!r} is not callable")
        return ref
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{what}: {ref!r} is not module:function (e.g. mypkg.ops:main)")
    try:
        module = import_user_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"{what}: cannot import {module_name!r} ({exc}); is it on PYTHONPATH?"
        ) from None
    except (Exception, SystemExit) as exc:
        # The module's own code ran and stopped: its error is the user's to fix, and a
        # sys.exit() must not end the harness (with no verdict, and no --json written).
        raise UsageError(f"{what}: {import_failure(module_name, exc)}") from None
    value: Any = module
    for part in attr.split("."):
        value = getattr(value, part, None)
        if value is None:
            raise UsageError(f"{what}: module {module_name!r} has no {attr!r}")
    if not callable(value):
        raise UsageError(f"{what}: {ref!r} is not callable")
    return value  # type: ignore[no-any-return]


def import_user_module(module_name: str) -> Any:
    """Import a user's module; the current directory is searched last (a console script,
    unlike ``python -m``, does not put it on sys.path)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        cwd = os.getcwd()
        top = module_name.split(".", 1)[0]
        if exc.name != top or cwd in sys.path or "" in sys.path:
            raise
        sys.path.append(cwd)
        return importlib.import_module(module_name)


def import_failure(module_name: str, exc: BaseException) -> str:
    """What importing a user's module did instead of defining it, and where."""
    at = where(exc)
    if isinstance(exc, SystemExit):
        return (
            f"importing {module_name!r} called sys.exit({exc.code!r}) (at {at}); a module "
            "that actors come from must not exit when imported (put that code under "
            "if __name__ == '__main__':)"
        )
    return f"importing {module_name!r} raised {type(exc).__name__}: {exc} (at {at})"


def where(exc: BaseException) -> str:
    """file:line of the innermost frame in the user's code (module path, so that it reads
    the same from any working directory)."""
    frames = traceback.extract_tb(exc.__traceback__)
    tb = exc.__traceback__
    modules = []
    while tb is not None:
        modules.append(str(tb.tb_frame.f_globals.get("__name__", "")))
        tb = tb.tb_next
    for frame, module in reversed(list(zip(frames, modules, strict=True))):
        if module.split(".", 1)[0] in _SKIP_FRAMES or frame.filename.startswith(_STDLIB):
            continue
        path = frame.filename
        tail = module.replace(".", "/") + ".py"
        if module and module != "__main__" and path.replace(os.sep, "/").endswith(tail):
            path = tail
        else:
            path = os.path.basename(path)
        return f"{path}:{frame.lineno}"
    last = frames[-1] if frames else None
    return f"{os.path.basename(last.filename)}:{last.lineno}" if last else "?"


_STDLIB: Final = os.path.dirname(os.__file__) + os.sep
_SKIP_FRAMES: Final = ("dnschaos", "boto3", "botocore", "moto", "threading", "concurrent")


def takes_argument(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is handed its ActorContext. The rule: a parameter named ``ctx`` gets it
    (by keyword, wherever it stands), else the first parameter gets it when it has no
    default (``fn(ctx)``, ``fn(context)``, ``fn(*args)``); a function whose parameters all
    have defaults (``def switch(to="green")``) or that has none is called with no argument,
    so its defaults stand."""
    return context_argument(fn) is not None


ContextArgument = Literal["keyword", "positional"]


def context_argument(fn: Callable[..., Any]) -> ContextArgument | None:
    """How ``fn`` takes its ActorContext: ``"keyword"`` (as ``ctx=``), ``"positional"`` (as
    its first argument) or None (it takes none); the rule is :func:`takes_argument`'s."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: the old rule, fn(ctx)
        return "positional"
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if any(p.name == "ctx" and p.kind in by_keyword for p in params):
        return "keyword"
    first = next((p for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY), None)
    if first is None or first.kind is inspect.Parameter.VAR_KEYWORD:
        return None
    if first.kind is inspect.Parameter.VAR_POSITIONAL or first.default is inspect.Parameter.empty:
        return "positional"
    return None


def ref_name(ref: Ref | None) -> str:
    """``module:function`` of a reference or a callable (what messages and digests name)."""
    if ref is None or isinstance(ref, str):
        return str(ref)
    return f"{getattr(ref, '__module__', '?')}:{getattr(ref, '__qualname__', repr(ref))}"


def module_of(ref: Ref) -> str | None:
    if isinstance(ref, str):
        return ref.partition(":")[0]
    return getattr(ref, "__module__", None)


__all__ = [
    "NO_ACTOR_ERROR",
    "ActorSpec",
    "InvariantSpec",
    "RecordSpec",
    "TableSpec",
    "WorldSpec",
    "ZoneSpec",
    "is_ref",
    "load_ref",
]
