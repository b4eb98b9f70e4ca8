"""Mutation testing of the kernel: plant one small bug at a time, see whether the tests notice.

For each module named in ``tools/mutate.toml`` this parses the source, lists the small
changes a slip of the pen makes (a comparison off by one, ``and`` for ``or``, a flipped
constant, a condition negated, a statement or a raise left out, a returned value lost,
``min`` for ``max``, a message reworded), draws a sample of them spread over the file,
and runs the module's fast tests against each mutant in turn. A mutant the tests fail on
is *killed*; one they pass is a *survivor*, printed with its place and its change, since
it names a rule no test states. A mutant that runs past its time limit counts as killed
(by timeout) and is reported as such.

Why not an off-the-shelf tool: the source folders install under another name
(``harness/`` is ``dnschaos``; see pyproject's package-dir), which mutmut's copied tree
cannot follow, and cosmic-ray rewrites the files of the work tree in place. Here the
working tree is never written: each worker lays out a tree of symbolic links shaped
like the installed package (as ``.ci/typecheck-tree`` does), puts it first on
``PYTHONPATH`` (the editable install's import hook comes after ``sys.path``), and
replaces only the one link of the module under test with the mutated text.

    python tools/mutate.py --sample 60 --seed 7 --budget 1800 --jobs 2
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "tools" / "mutate.toml"
NO_MUTATE = "pragma: no mutate"

# How long a mutant's tests may run: this many times the unmutated run, and at least
# MIN_TIMEOUT seconds (a loaded machine starts Python slowly).
TIMEOUT_FACTOR = 4.0
MIN_TIMEOUT = 20.0
# And one test of it (pytest-timeout): a kernel test takes seconds, so a mutant that makes
# one hang is caught long before the whole run's limit.
TEST_TIMEOUT = 60
_TEST_TIMED_OUT = re.compile(r"Failed: Timeout \(>[0-9.]+s\)")


# --------------------------------------------------------------------------- mutants


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One planted bug: the source segment ``start``..``end`` (line, column) replaced."""

    path: str  # relative to the repository
    line: int
    operator: str
    start: tuple[int, int]
    end: tuple[int, int]
    replacement: str

    def apply(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        offsets = [0]
        for text in lines:
            offsets.append(offsets[-1] + len(text))

        def at(pos: tuple[int, int]) -> int:
            line, byte_col = pos
            # ast columns count UTF-8 bytes; Python strings count characters.
            col = len(lines[line - 1].encode()[:byte_col].decode())
            return offsets[line - 1] + col

        return source[: at(self.start)] + self.replacement + source[at(self.end) :]

    def describe(self, source: str) -> str:
        before = source.splitlines()[self.line - 1].strip()
        after_lines = self.apply(source).splitlines()
        after = after_lines[self.line - 1].strip() if self.line <= len(after_lines) else ""
        return f"{self.path}:{self.line}: {self.operator}: {before}  ->  {after}"


_COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
}
_CALL_SWAP = {"min": "max", "max": "min", "any": "all", "all": "any"}


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """Nodes whose mutation means nothing at run time, or only says what a type says:
    annotations (text under ``from __future__ import annotations``), decorators,
    docstrings, ``...`` bodies, ``if TYPE_CHECKING`` blocks and ``__all__``."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                if arg is not None and arg.annotation is not None:
                    roots.append(arg.annotation)
            if node.returns is not None:
                roots.append(node.returns)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            roots.extend(node.decorator_list)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                roots.append(body[0])  # the docstring
        if isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            roots.append(node)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            roots.append(node)
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and node.value.value is Ellipsis
        ):
            roots.append(node)
    skipped: set[int] = set()
    for root in roots:
        skipped.update(id(n) for n in ast.walk(root))
    return skipped


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    end_line = getattr(node, "end_lineno", None)
    end_col = getattr(node, "end_col_offset", None)
    assert end_line is not None and end_col is not None
    return (node.lineno, node.col_offset), (end_line, end_col)  # type: ignore[attr-defined]


def _segment(lines: list[str], node: ast.AST) -> str:
    (l0, c0), (l1, c1) = _span(node)
    raw = [line.encode() for line in lines[l0 - 1 : l1]]
    if l0 == l1:
        return raw[0][c0:c1].decode()
    return b"".join([raw[0][c0:], *raw[1:-1], raw[-1][:c1]]).decode()


def mutants_of(path: str, source: str) -> list[Mutant]:
    """Every mutant of one module's source, in the order of the file."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    skipped = _skipped_nodes(tree)
    inside_fstring: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside_fstring.update(id(n) for n in ast.walk(node) if n is not node)
    out: list[Mutant] = []

    def add(node: ast.AST, operator: str, replacement: str) -> None:
        start, end = _span(node)
        out.append(Mutant(path, node.lineno, operator, start, end, replacement))  # type: ignore[attr-defined]

    def expr(node: ast.AST, operator: str, new: ast.AST) -> None:
        add(node, operator, "(" + ast.unparse(new) + ")")

    for node in ast.walk(tree):
        if id(node) in skipped or id(node) in inside_fstring or not hasattr(node, "lineno"):
            continue
        if NO_MUTATE in lines[node.lineno - 1]:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swapped = _COMPARE_SWAP.get(type(op))
                if swapped is not None:
                    ops = list(node.ops)
                    ops[i] = swapped()
                    expr(node, "compare", ast.Compare(node.left, ops, node.comparators))
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            expr(node, "and/or", ast.BoolOp(other, node.values))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            expr(node, "drop not", node.operand)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
            new_op = _BINOP_SWAP[type(node.op)]()
            expr(node, "arithmetic", ast.BinOp(node.left, new_op, node.right))
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                add(node, "constant", repr(not value))
            elif isinstance(value, (int, float)):
                add(node, "constant", repr(value + 1))
            elif isinstance(value, str):
                add(node, "string", "('XX' + " + _segment(lines, node) + ")")
        elif isinstance(node, ast.JoinedStr):
            add(node, "string", "('XX' + " + _segment(lines, node) + ")")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _CALL_SWAP
        ):
            add(node.func, "call", _CALL_SWAP[node.func.id])
        # Conditions, negated.
        if isinstance(node, (ast.If, ast.While, ast.IfExp)) and not (
            isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
        ):
            expr(node.test, "negate", ast.UnaryOp(ast.Not(), node.test))
        if isinstance(node, ast.comprehension):
            for cond in node.ifs:
                expr(cond, "negate", ast.UnaryOp(ast.Not(), cond))
        # Statements.
        if isinstance(node, ast.AugAssign) and type(node.op) in _BINOP_SWAP:
            new_op = _BINOP_SWAP[type(node.op)]()
            add(node, "arithmetic", ast.unparse(ast.AugAssign(node.target, new_op, node.value)))
        if isinstance(node, (ast.Expr, ast.Raise, ast.Delete)):
            add(node, "delete", "pass")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            # A write to shared state; leaving out a local's assignment only makes a NameError.
            if all(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets) and (
                not isinstance(node, ast.AnnAssign) or node.value is not None
            ):
                add(node, "delete", "pass")
        elif isinstance(node, ast.Return) and node.value is not None:
            # A returned constant is flipped above; None for False or 0 says the same thing.
            if not isinstance(node.value, ast.Constant):
                add(node, "return", "return None")
        elif isinstance(node, ast.Break):
            add(node, "loop", "continue")
        elif isinstance(node, ast.Continue):
            add(node, "loop", "break")
    valid = []
    original = ast.dump(tree)
    for m in sorted(out, key=lambda m: (m.start, m.end, m.operator, m.replacement)):
        try:
            mutated = ast.parse(m.apply(source))
        except SyntaxError:
            continue
        if ast.dump(mutated) != original:
            valid.append(m)
    return valid


def sample(mutants: Sequence[Mutant], n: int, rng: random.Random) -> list[Mutant]:
    """``n`` mutants spread over the file: one drawn at random from each of ``n`` equal
    stretches of it (all of them when there are fewer)."""
    if n >= len(mutants):
        return list(mutants)
    chosen = []
    for i in range(n):
        lo = i * len(mutants) // n
        hi = (i + 1) * len(mutants) // n
        chosen.append(mutants[rng.randrange(lo, hi)])
    return chosen


# --------------------------------------------------------------------------- config


@dataclasses.dataclass(frozen=True)
class Target:
    path: str  # the module's file, relative to the repository
    tests: tuple[str, ...]


def read_config(config: Path) -> list[Target]:
    try:
        data = tomllib.loads(config.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"mutate: {config}: cannot read it: {exc}") from None
    modules = data.get("modules")
    if not isinstance(modules, dict) or not modules:
        raise SystemExit(
            f'mutate: {config}: needs a [modules] table of "path/to/module.py" = ["tests/..."]'
        )
    targets = []
    for path, tests in modules.items():
        if not (ROOT / path).is_file():
            raise SystemExit(f"mutate: {config}: modules.{path!r}: no such file in {ROOT}")
        if not isinstance(tests, list) or not tests or not all(isinstance(t, str) for t in tests):
            raise SystemExit(f"mutate: {config}: modules.{path!r}: give a list of test paths")
        for t in tests:
            if not (ROOT / t).exists():
                raise SystemExit(f"mutate: {config}: modules.{path!r}: no test path {t!r}")
        targets.append(Target(path, tuple(tests)))
    return targets


def package_dirs() -> dict[str, str]:
    """pyproject's package-dir mapping: package name -> source folder."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping: dict[str, str] = data["tool"]["setuptools"]["package-dir"]
    return mapping


def module_name(path: str, mapping: dict[str, str]) -> str:
    """The import name of a source file under the package-dir mapping."""
    best = max(
        (pkg for pkg, folder in mapping.items() if path.startswith(folder.rstrip("/") + "/")),
        key=lambda pkg: len(mapping[pkg]),
        default=None,
    )
    if best is None:
        raise SystemExit(f"mutate: {path}: not under any folder of pyproject's package-dir")
    rest = path[len(mapping[best].rstrip("/")) + 1 : -len(".py")].replace("/", ".")
    return best if rest == "__init__" else f"{best}.{rest.removesuffix('.__init__')}"


# --------------------------------------------------------------------------- running


class Shadow:
    """A tree of links laid out as the installed package, for one worker."""

    def __init__(self, base: Path, mapping: dict[str, str]) -> None:
        self.root = base / "site"
        self.pycache = base / "pycache"
        # Packages before their subpackages, so a subpackage's folder lands inside.
        for pkg in sorted(mapping, key=lambda p: p.count(".")):
            src = ROOT / mapping[pkg]
            dest = self.root.joinpath(*pkg.split("."))
            for dirpath, dirnames, filenames in os.walk(src):
                dirnames[:] = [d for d in dirnames if d != "__pycache__"]
                rel = Path(dirpath).relative_to(src)
                (dest / rel).mkdir(parents=True, exist_ok=True)
                for name in filenames:
                    link = dest / rel / name
                    if not link.exists():
                        link.symlink_to(Path(dirpath) / name)
        self.links: dict[str, Path] = {}

    def file_for(self, module: str) -> Path:
        parts = module.split(".")
        path = self.root.joinpath(*parts).with_suffix(".py")
        if not path.is_symlink():
            path = self.root.joinpath(*parts, "__init__.py")
        return path

    @contextmanager
    def mutated(self, module: str, text: str | None) -> Iterator[None]:
        """The module's link replaced by ``text`` (None: the unmutated file), then put back."""
        path = self.file_for(module)
        target = path.resolve()
        # The bytecode cache keys on the path: drop what an earlier mutant left there.
        for stale in self.pycache.glob(f"**/{path.stem}.*.pyc"):
            stale.unlink()
        if text is not None:
            path.unlink()
            path.write_text(text)
        try:
            yield
        finally:
            if text is not None:
                path.unlink()
                path.symlink_to(target)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(self.root), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        return env


@dataclasses.dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | timeout | survived | not-run
    seconds: float = 0.0


# The test runs under way (each in a process group of its own), so an interrupted run can
# end them, and whether the run is being stopped.
_RUNNING: set[subprocess.Popen[str]] = set()
_STOPPING = threading.Event()


def _stop_all() -> None:
    _STOPPING.set()
    for proc in list(_RUNNING):
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_tests(
    shadow: Shadow, tests: Sequence[str], timeout: float
) -> tuple[int | None, float, str]:
    """Run ``tests`` on the shadow tree: (pytest's exit code or None on timeout, seconds, tail)."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        # Its import is most of a short run's start-up, and no kernel test uses it.
        "-p",
        "no:hypothesispytest",
        "-o",
        "addopts=",
        f"--timeout={TEST_TIMEOUT}",
        *tests,
    ]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=shadow.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    _RUNNING.add(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the tests and any child they started
        proc.communicate()
        return None, time.monotonic() - start, ""
    finally:
        _RUNNING.discard(proc)
    return proc.returncode, time.monotonic() - start, out[-3000:]


def check_shadow(shadow: Shadow, module: str) -> None:
    """Make sure the tests would import the module from the shadow tree, not the work tree."""
    probe = f"import importlib; print(importlib.import_module({module!r}).__file__)"
    found = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=shadow.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    where = found.stdout.strip()
    if found.returncode != 0 or not where.startswith(str(shadow.root)):
        raise SystemExit(
            f"mutate: {module} is imported from {where or found.stderr.strip()!r}, not from the "
            f"shadow tree {shadow.root}: the mutants would not be tested"
        )


# --------------------------------------------------------------------------- report


def score_line(path: str, outcomes: Sequence[Outcome]) -> str:
    run = [o for o in outcomes if o.status != "not-run"]
    killed = sum(o.status in ("killed", "timeout") for o in run)
    timeouts = sum(o.status == "timeout" for o in run)
    skipped = len(outcomes) - len(run)
    pct = f"{100.0 * killed / len(run):5.1f}%" if run else "  n/a"
    extra = f", {timeouts} by timeout" if timeouts else ""
    if skipped:
        extra += f", {skipped} not run (budget)"
    return f"{pct}  {killed:3d}/{len(run):<3d} killed  {path}{extra}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--sample", type=int, default=60, help="mutants per module (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh one, printed")
    parser.add_argument(
        "--budget", type=float, default=3600.0, help="seconds for the whole run (default 3600)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument(
        "--module",
        action="append",
        default=[],
        help="only this module (its path as in the config; repeatable)",
    )
    parser.add_argument("--list", action="store_true", help="count the mutants; run nothing")
    parser.add_argument("--json", type=Path, default=None, help="write every outcome here")
    parser.add_argument(
        "--fail-under", type=float, default=None, help="exit 1 if a module scores below this %%"
    )
    args = parser.parse_args(argv)
    if args.sample < 1 or args.jobs < 1 or args.budget <= 0:
        parser.error("--sample and --jobs must be >= 1, --budget > 0")
    targets = read_config(args.config)
    if args.module:
        unknown = sorted(set(args.module) - {t.path for t in targets})
        if unknown:
            parser.error(
                f"--module {', '.join(unknown)}: not in {args.config}; choose from "
                + ", ".join(t.path for t in targets)
            )
        targets = [t for t in targets if t.path in args.module]
    signal.signal(signal.SIGTERM, _interrupt)  # a killed run cleans up as an interrupted one
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    rng = random.Random(seed)
    mapping = package_dirs()
    sources = {t.path: (ROOT / t.path).read_text() for t in targets}
    every = {t.path: mutants_of(t.path, sources[t.path]) for t in targets}
    if args.list:
        for t in targets:
            print(f"{len(every[t.path]):5d} mutants  {t.path}")
        return 0
    drawn = {t.path: sample(every[t.path], args.sample, rng) for t in targets}
    print(f"mutate: seed {seed}, {args.sample} mutants a module, budget {args.budget:.0f}s")

    base = Path(tempfile.mkdtemp(prefix="dnschaos-mutate-"))
    try:
        shadows: list[Shadow] = [Shadow(base / f"w{i}", mapping) for i in range(args.jobs)]
        modules = {t.path: module_name(t.path, mapping) for t in targets}
        timeouts: dict[str, float] = {}
        for t in targets:
            check_shadow(shadows[0], modules[t.path])
            with shadows[0].mutated(modules[t.path], None):
                code, seconds, tail = run_tests(shadows[0], t.tests, timeout=args.budget)
            if code != 0:
                print(tail, file=sys.stderr)
                raise SystemExit(
                    f"mutate: the tests of {t.path} ({' '.join(t.tests)}) fail without any "
                    f"mutant (pytest exit {code}); fix them first"
                )
            timeouts[t.path] = max(MIN_TIMEOUT, TIMEOUT_FACTOR * seconds)
            print(f"  {t.path}: tests pass unmutated in {seconds:.1f}s", flush=True)

        # Round robin over modules, so a budget cut leaves each a comparable sample.
        queue: list[tuple[Target, Mutant]] = []
        for i in range(max(len(d) for d in drawn.values())):
            queue += [(t, drawn[t.path][i]) for t in targets if i < len(drawn[t.path])]
        deadline = time.monotonic() + args.budget
        free = list(shadows)
        lock = threading.Lock()

        def one(item: tuple[Target, Mutant]) -> Outcome:
            target, mutant = item
            if time.monotonic() > deadline or _STOPPING.is_set():
                return Outcome(mutant, "not-run")
            with lock:
                shadow = free.pop()
            try:
                text = mutant.apply(sources[target.path])
                with shadow.mutated(modules[target.path], text):
                    code, seconds, tail = run_tests(shadow, target.tests, timeouts[target.path])
            finally:
                with lock:
                    free.append(shadow)
            if code is None or (code == 1 and _TEST_TIMED_OUT.search(tail)):
                status = "timeout"
            elif code == 0:
                status = "survived"
            elif code in (4, 5):
                raise SystemExit(f"mutate: pytest could not run {target.tests} (exit {code})")
            else:
                status = "killed"
            mark = {"killed": ".", "timeout": "T", "survived": "S"}[status]
            print(mark, end="", flush=True)
            return Outcome(mutant, status, seconds)

        pool = ThreadPoolExecutor(max_workers=args.jobs)
        try:
            outcomes = list(pool.map(one, queue))
        except KeyboardInterrupt:
            _stop_all()
            print("\nmutate: interrupted; the work tree was never written", file=sys.stderr)
            return 130
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        print()
    finally:
        shutil.rmtree(base, ignore_errors=True)

    by_module = {t.path: [o for o in outcomes if o.mutant.path == t.path] for t in targets}
    print(f"\nScore per module (seed {seed}; killed includes timeouts):")
    for t in targets:
        print("  " + score_line(t.path, by_module[t.path]))
    survivors = [o for o in outcomes if o.status == "survived"]
    if survivors:
        print(f"\nSurvivors ({len(survivors)}):")
        for o in sorted(survivors, key=lambda o: (o.mutant.path, o.mutant.line)):
            print("  " + o.mutant.describe(sources[o.mutant.path]))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "seed": seed,
                    "sample": args.sample,
                    "outcomes": [
                        {
                            "path": o.mutant.path,
                            "line": o.mutant.line,
                            "operator": o.mutant.operator,
                            "change": o.mutant.describe(sources[o.mutant.path]),
                            "status": o.status,
                            "seconds": round(o.seconds, 2),
                        }
                        for o in outcomes
                    ],
                },
                indent=1,
            )
        )
    if args.fail_under is not None:
        for t in targets:
            run = [o for o in by_module[t.path] if o.status != "not-run"]
            killed = sum(o.status in ("killed", "timeout") for o in run)
            if run and 100.0 * killed / len(run) < args.fail_under:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
