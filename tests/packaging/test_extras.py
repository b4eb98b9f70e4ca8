"""A plain install runs simulations; what needs an extra says which one.

Each command runs in a child Python in which the extras' modules cannot be imported
(``None`` in ``sys.modules``, as for a package that is not installed): a simulation
and the HTML report work, the moto server, the PNG plots and ``--cluster`` stop with
exit 2 naming the extra. ``dnschaos --help`` and ``--version`` import none of boto3,
botocore, moto or the extras.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dnschaos.extras import EXTRAS

# Every module the extras bring, plus moto's server dependency: as after a plain install.
WITHOUT_EXTRAS = sorted({m for modules in EXTRAS.values() for m in modules})
HEAVY = ("boto3", "botocore", "moto", "matplotlib", "flask", "distributed", "dns", "rich")

_CHILD = """
import json, sys
blocked, entry, args = json.loads(sys.argv[1])
for name in blocked:
    sys.modules[name] = None
module, _, function = entry.partition(":")
try:
    code = getattr(__import__(module, fromlist=[function]), function)(args)
finally:  # also when argparse exits (--help)
    loaded = {name.split(".")[0] for name, m in list(sys.modules.items()) if m is not None}
    print(json.dumps(sorted(loaded)), file=sys.stderr)
sys.exit(code)
"""


def _call(
    entry: str, *args: str, blocked: list[str] = WITHOUT_EXTRAS, cwd: Path | None = None
) -> tuple[int, str, list[str]]:
    """Run ``entry`` (module:function, called with the arguments) in a child Python:
    its exit code, its standard error, and the top-level modules it had loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps([blocked, entry, list(args)])],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )
    *text, loaded = done.stderr.rstrip("\n").rsplit("\n", 1) if done.stderr else ("", "[]")
    try:
        modules = json.loads(loaded)
    except json.JSONDecodeError:  # it died before it could say (a traceback)
        text, modules = [done.stderr], []
    return done.returncode, "\n".join(text), modules


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_aws_sdk_and_no_extra(flag: str) -> None:
    code, _, loaded = _call("dnschaos.cli:main", flag, blocked=[])
    assert code == 0
    assert "dnschaos" in loaded
    assert not set(HEAVY) & set(loaded), sorted(set(HEAVY) & set(loaded))


def test_a_command_still_imports_what_it_needs() -> None:
    """The other side of the test above: it would see boto3 if it were loaded."""
    code, _, loaded = _call("dnschaos.cli:main", "run", "--help", blocked=[])
    assert code == 0
    assert {"boto3", "botocore", "moto"} <= set(loaded)


@pytest.fixture(scope="module")
def lean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """incident-2025 run without any extra: the violation it always finds."""
    out = tmp_path_factory.mktemp("lean")
    code, err, loaded = _call(
        "dnschaos.cli:main",
        "run",
        "incident-2025",
        "--seed",
        "7",
        "-q",
        "--json",
        str(out / "legacy.json"),
    )
    assert code == 1, err
    assert not {"matplotlib", "flask", "distributed"} & set(loaded)
    return out / "legacy.json"


def test_a_simulation_needs_no_extra(lean_run: Path) -> None:
    result = json.loads(lean_run.read_text())
    assert result["verdict"] == "fail"
    assert result["trace_digest"].startswith("0471fe57")


def test_the_html_report_needs_no_extra(lean_run: Path) -> None:
    page = lean_run.with_suffix(".html")
    code, err, loaded = _call("dnschaos.cli:main", "report", str(lean_run), "-o", str(page))
    assert code == 0, err
    assert page.read_text().startswith("<!doctype html>")
    assert "matplotlib" not in loaded


def _refused(code: int, err: str, extra: str) -> None:
    assert code == 2, err
    assert f"pip install 'dnschaos[{extra}]'" in err
    assert "Traceback" not in err


def test_the_png_plot_names_the_report_extra(lean_run: Path) -> None:
    plot = lean_run.with_suffix(".png")
    code, err, _ = _call("dnschaos.cli:main", "report", str(lean_run), "-o", str(plot))
    _refused(code, err, "report")
    assert "matplotlib" in err
    assert not plot.exists()


def test_the_moto_server_names_the_server_extra() -> None:
    code, err, loaded = _call("dnschaos.adapters.aws.moto_server:main", "--port", "0")
    _refused(code, err, "server")
    assert "flask" in err
    assert "moto" not in loaded  # refused before anything of the server was imported


def test_starting_a_moto_server_from_python_names_the_server_extra() -> None:
    code, err, _ = _call("tests.packaging.test_extras:_start_server", cwd=Path(__file__).parents[2])
    _refused(code, err, "server")


def _start_server(args: list[str]) -> int:
    from dnschaos.adapters.aws.moto_server import moto_server
    from dnschaos.errors import UsageError

    try:
        with moto_server():
            return 0
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code


def test_an_unreachable_endpoint_says_the_server_needs_its_extra() -> None:
    code, err, _ = _call(
        "dnschaos.cli:main",
        "run",
        "incident-2025",
        "--target",
        "moto-server",
        "--endpoint-url",
        "http://127.0.0.1:9",
    )
    _refused(code, err, "server")


def test_a_cluster_campaign_names_the_cluster_extra(tmp_path: Path) -> None:
    code, err, _ = _call(
        "dnschaos.cli:main",
        "fuzz",
        "steady-state",
        "--cluster",
        "tcp://127.0.0.1:9",
        "--budget",
        "1",
        "--store",
        str(tmp_path / "store"),
    )
    _refused(code, err, "cluster")
    assert "distributed" in err
