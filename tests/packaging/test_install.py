"""The wheel as a user installs it: one top-level package, ``dnschaos``, beside whatever else
the environment holds. PyPI's ``fixtures`` is the neighbour that matters: the source folder
fixtures/ must install as ``dnschaos.fixtures``, never over it.

Needs the package index (for the build backend and for ``fixtures``). Without it the
install test skips on a developer's machine and fails in CI (``CI=true``).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

from dnschaos._version import __version__

ROOT = Path(__file__).resolve().parents[2]
PIP = ("--disable-pip-version-check", "--no-input", "-q")
# A test here runs several pip commands of up to 600 s each (see _run): more than the
# suite's default limit per test allows.
pytestmark = pytest.mark.timeout(1800)
# What is copied to build from: the sources and the files pyproject.toml names.
NOT_BUILT_FROM = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "out",
    "tests",
    "bench",
    "examples",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
)
# pip's words for an index it cannot reach.
UNREACHABLE = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "Could not fetch URL",
    "No matching distribution found",
)


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _index_unreachable(what: str, done: subprocess.CompletedProcess[str]) -> None:
    """Skip (on a developer's machine) or fail (in CI) when pip could not reach the index;
    any other pip failure is a failure."""
    output = done.stdout + done.stderr
    if not any(sign in output for sign in UNREACHABLE):
        pytest.fail(f"{what} failed:\n{output}")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{what}: the package index cannot be reached, and CI needs it:\n{output}")
    tail = "\n".join(output.strip().splitlines()[-3:])
    pytest.skip(f"{what}: the package index cannot be reached (this fails in CI):\n{tail}")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist, and the wheel built from that sdist (as pip builds from a download), built
    once from a copy of the checkout (a build writes build/ and an egg-info next to
    pyproject.toml; the checkout stays as it is)."""
    base = tmp_path_factory.mktemp("dist")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_BUILT_FROM, symlinks=True)
    out = base / "dist"
    done = _run(sys.executable, "-m", "build", "--outdir", out, source)
    if done.returncode != 0:
        _index_unreachable("building the dnschaos sdist and wheel", done)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("dnschaos-*.whl")
    return built


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    (built,) = dist.glob("dnschaos-*.tar.gz")
    return built


def _record(dist_info: Path) -> list[tuple[str, str]]:
    """(path, hash) rows of an installed distribution's RECORD, relative to site-packages."""
    rows = csv.reader(io.StringIO((dist_info / "RECORD").read_text()))
    return [(row[0], row[1]) for row in rows if row]


def _intact(site: Path, dist_info: Path) -> list[str]:
    """The files of a distribution that are missing or changed, by its RECORD."""
    broken = []
    for name, digest in _record(dist_info):
        path = site / name
        if not path.is_file():
            broken.append(f"missing: {name}")
        elif digest:
            algorithm, _, expected = digest.partition("=")
            actual = hashlib.new(algorithm, path.read_bytes()).digest()
            if base64.urlsafe_b64encode(actual).rstrip(b"=").decode() != expected:
                broken.append(f"changed: {name}")
    return broken


class Venv:
    """A fresh virtual environment without pip of its own: this environment's pip drives it
    (``pip --python``), which saves bootstrapping one per test."""

    def __init__(self, path: Path) -> None:
        done = _run(sys.executable, "-m", "venv", "--without-pip", path)
        assert done.returncode == 0, done.stderr
        self.root = path
        self.python = path / "bin" / "python"
        where = self.run("import sysconfig; print(sysconfig.get_paths()['purelib'])")
        self.site = Path(where.strip())

    def pip(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return _run(sys.executable, "-m", "pip", "--python", self.python, *args)

    def run(self, code: str) -> str:
        done = _run(self.python, "-c", code, cwd=self.root)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def top_level(self) -> set[str]:
        return {p.name for p in self.site.iterdir() if p.name != "__pycache__"}

    def fixtures_works(self) -> None:
        out = self.run(
            "import fixtures; fixtures.Fixture; fixtures.MonkeyPatch; print(fixtures.__file__)"
        )
        assert Path(out.strip()) == self.site / "fixtures" / "__init__.py", out


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    return Venv(tmp_path / "venv")


def _dist_info(site: Path, name: str) -> Path:
    (found,) = site.glob(f"{name}-*.dist-info")
    return found


def test_dnschaos_installs_and_uninstalls_beside_pypi_fixtures(wheel: Path, venv: Venv) -> None:
    done = venv.pip("install", *PIP, "--retries", "2", "--timeout", "30", "fixtures")
    if done.returncode != 0:
        _index_unreachable("pip install fixtures", done)
    venv.fixtures_works()
    theirs = _dist_info(venv.site, "fixtures")
    assert _intact(venv.site, theirs) == []
    before = venv.top_level()

    done = venv.pip("install", *PIP, "--no-deps", wheel)
    assert done.returncode == 0, done.stdout + done.stderr
    ours = _dist_info(venv.site, "dnschaos")
    added = venv.top_level() - before
    assert added == {"dnschaos", ours.name}, f"new at the top of site-packages: {sorted(added)}"
    assert before <= venv.top_level()
    for name, _ in _record(ours):
        assert name.startswith(("dnschaos/", f"{ours.name}/", "../")), name
    venv.fixtures_works()
    assert _intact(venv.site, theirs) == []

    done = venv.pip("uninstall", *PIP, "-y", "dnschaos")
    assert done.returncode == 0, done.stdout + done.stderr
    assert venv.top_level() == before
    venv.fixtures_works()
    assert _intact(venv.site, theirs) == []


def _source_modules() -> set[str]:
    """Every file the source folders hold that belongs in the wheel, at its installed path."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found = set()
    for package, folder in config["tool"]["setuptools"]["package-dir"].items():
        prefix = package.replace(".", "/")
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".toml", ".json") and "__pycache__" not in path.parts:
                found.add(f"{prefix}/{path.relative_to(ROOT / folder).as_posix()}")
    return found


def test_the_wheel_holds_the_whole_package_and_nothing_else(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/RECORD"))
    assert {n.split("/")[0] for n in names} == {"dnschaos", dist_info}
    assert "dnschaos/result.schema.json" in names
    assert "dnschaos/scenario.schema.json" in names
    scenarios = {n for n in names if n.startswith("dnschaos/fixtures/scenarios/")}
    assert "dnschaos/fixtures/scenarios/incident-2025.toml" in scenarios
    assert all(n.endswith(".toml") for n in scenarios)
    for package in (
        "sim",
        "scenario",
        "world",
        "workloads/incident2025",
        "workloads/incident2025/downstream",
        "adapters/route53",
        "adapters/gate",
        "faults",
        "fixtures",
        "report",
    ):
        assert f"dnschaos/{package}/__init__.py" in names, package
    assert "dnschaos/fixtures/plugin.py" in names
    assert {"dnschaos/report/assets/report.css", "dnschaos/report/assets/report.js"} <= names
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert "[pytest11]\ndnschaos = dnschaos.fixtures.plugin" in entry_points, entry_points
    assert "[console_scripts]\ndnschaos = dnschaos.cli:main" in entry_points, entry_points
    assert (
        "[dnschaos.workloads]\nincident-2025 = dnschaos.workloads.incident2025.plugin:WORKLOAD"
        in entry_points
    ), entry_points
    missing = _source_modules() - names
    assert not missing, f"in the source tree but not in the wheel: {sorted(missing)}"


def _metadata(wheel: Path) -> tuple[str, Any]:
    with zipfile.ZipFile(wheel) as archive:
        dist_info = next(n.split("/")[0] for n in archive.namelist() if n.endswith("/METADATA"))
        text = archive.read(f"{dist_info}/METADATA").decode()
    return dist_info, Parser().parsestr(text)


def test_the_wheel_says_its_version_license_and_extras(wheel: Path) -> None:
    dist_info, meta = _metadata(wheel)
    assert meta["Version"] == __version__
    assert dist_info == f"dnschaos-{__version__}.dist-info"
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert "Typing :: Typed" in meta.get_all("Classifier")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        license_text = archive.read(f"{dist_info}/licenses/LICENSE").decode()
    assert license_text == (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    assert "dnschaos/py.typed" in names
    assert set(meta.get_all("Provides-Extra")) == {"server", "report", "cluster", "all", "dev"}
    required = meta.get_all("Requires-Dist")
    plain = {r.split(";")[0].strip() for r in required if "extra ==" not in r}
    plain_names = {re.split(r"[\[<>=!~ ]", r)[0].lower() for r in plain}
    # What a simulation needs, and nothing of the extras.
    assert plain_names == {"boto3", "moto", "dnspython", "tenacity", "rich", "shtab", "jsonschema"}
    assert not any("server" in r for r in plain), plain
    by_extra: dict[str, set[str]] = {}
    for r in required:
        if "extra ==" in r:
            spec, _, marker = r.partition(";")
            extra = marker.split("==")[1].strip().strip("\"'")
            by_extra.setdefault(extra, set()).add(re.split(r"[<>=!~ ]", spec.strip())[0])
    assert by_extra["server"] == {"moto[server]"}
    assert by_extra["report"] == {"matplotlib"}
    assert by_extra["cluster"] == {"distributed"}
    assert by_extra["all"] == {"dnschaos[cluster,report,server]"}


def test_the_sdist_builds_the_wheel_and_holds_license_and_data(sdist: Path) -> None:
    """The wheel above was built from this sdist; here: what it carries besides code."""
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    top = f"dnschaos-{__version__}"
    assert sdist.name == f"{top}.tar.gz"
    for name in ("LICENSE", "README.md", "pyproject.toml", "harness/py.typed", "PKG-INFO"):
        assert name in names, name
    for name in ("result.schema.json", "scenario.schema.json"):
        assert f"harness/{name}" in names
    shipped = {n for n in names if n.startswith("fixtures/scenarios/")}
    ours = {
        f"fixtures/scenarios/{p.name}" for p in (ROOT / "fixtures" / "scenarios").glob("*.toml")
    }
    assert shipped == ours


def test_the_installed_package_finds_its_data_and_prints_its_version(
    wheel: Path, venv: Venv
) -> None:
    """Installed without its dependencies: the data files are where the code looks, and
    the console script answers --version and --help without boto3 installed at all."""
    done = venv.pip("install", *PIP, "--no-deps", wheel)
    assert done.returncode == 0, done.stdout + done.stderr
    out = venv.run(
        "import json; from importlib.resources import files; d = files('dnschaos'); "
        "json.loads(d.joinpath('result.schema.json').read_text()); "
        "json.loads(d.joinpath('scenario.schema.json').read_text()); "
        "print(sorted(p.name for p in d.joinpath('fixtures', 'scenarios').iterdir())); "
        "print(d.joinpath('py.typed').is_file())"
    )
    scenarios, typed = out.strip().splitlines()
    ours = sorted(p.name for p in (ROOT / "fixtures" / "scenarios").glob("*.toml"))
    assert scenarios == repr(ours)
    assert typed == "True"
    script = venv.root / "bin" / "dnschaos"
    done = _run(script, "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"dnschaos {__version__}"), done.stderr
    done = _run(script, "--help")
    assert done.returncode == 0, done.stderr
    assert "run a scenario and judge it" in done.stdout
