"""The documentation cannot rot: the site builds with warnings as errors, every code block
in it and in the README runs as printed, every link resolves, and the README's own
example is walked as a new user walks it, from the install to the commands its failure
prints.

How a page's blocks run (docs/index.md says the same to readers): each page gets a fresh
directory, with the repository's ``examples/`` in it; a block with a title is written to
that file; a ``python`` block runs with Python; each ``$`` line of a ``console`` block
runs in bash, and must exit with the status its ``# exit N`` comment names (0 without
one). ``text`` blocks are output and are not run. ``pip install`` lines are skipped here,
where dnschaos is installed already; the README walk installs it for real.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = [README, *sorted(p for p in DOCS.rglob("*.md") if "_api" not in p.parts)]
BIN = Path(sys.executable).parent
FENCE = re.compile(r'^```(\w+)(?: title="([^"]+)")?\n(.*?)^```\n', re.M | re.S)
EXIT = re.compile(r"\s+# exit (\d+)$")
RUN_LIMIT = 600  # seconds for one command (a campaign's budget is stated in its command)
pytestmark = pytest.mark.timeout(1800)


@dataclass(frozen=True)
class Block:
    lang: str
    title: str | None
    body: str
    line: int


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    return [
        Block(m[1], m[2], m[3], text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)
    ]


def commands(block: Block) -> list[tuple[str, int]]:
    """The ``$`` lines of a console block with the status each must exit with."""
    out = []
    for line in block.body.splitlines():
        if not line.startswith("$ "):
            continue
        command = line[2:]
        status = EXIT.search(command)
        out.append((EXIT.sub("", command), int(status[1]) if status else 0))
    return out


def _env(bin_dir: Path, cwd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(cwd)
    env["COLUMNS"] = "100"
    return env


def _sh(
    command: str, cwd: Path, bin_dir: Path = BIN, *, python: str | None = None
) -> subprocess.CompletedProcess[str]:
    """A console line run by bash, or with ``python=`` a Python block run by Python."""
    return subprocess.run(
        ["bash", "-c", command] if python is None else [sys.executable, "-"],
        input=python,
        cwd=cwd,
        env=_env(bin_dir, cwd),
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    site = tmp_path / "site"
    cli = (site / "reference" / "cli" / "index.html").read_text()
    # The generated references hold what the program says now.
    for command in ("run", "fuzz", "report", "schema", "completion"):
        assert f"dnschaos {command}" in cli
    keys = (site / "reference" / "scenario-keys" / "index.html").read_text()
    assert "world.zones.records" in keys and "fuzz.max_faults" in keys
    assert "Simulation" in (site / "reference" / "api" / "index.html").read_text()


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_code_block_runs_as_printed(page: Path, tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    found = blocks(page)
    for block in found:
        where = f"{_page_id(page)}:{block.line}"
        if block.title is not None:
            (tmp_path / block.title).write_text(block.body)
        elif block.lang == "python":
            done = _sh("", tmp_path, python=block.body)
            assert done.returncode == 0, f"{where}: {done.stdout}{done.stderr}"
        elif block.lang == "console":
            assert commands(block), f"{where}: a console block without a $ line"
            for command, status in commands(block):
                if command.startswith("pip install"):
                    continue  # installed already; test_the_readme_example_walks_end_to_end
                done = _sh(command, tmp_path)
                assert done.returncode == status, (
                    f"{where}: {command!r} exited {done.returncode}, the page says {status}\n"
                    f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
                )
        else:
            assert block.lang == "text", f"{where}: a {block.lang} block runs only with a title"


LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_link_resolves(page: Path) -> None:
    text = FENCE.sub("", page.read_text())
    targets = [a or b for a, b in LINK.findall(text)]
    for target in targets:
        assert not target.startswith(("http:", "https:")), (
            f"{_page_id(page)}: {target}: the suite has no network; link into the repository"
        )
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{_page_id(page)}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", resolved.read_text(), re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{_page_id(page)}: {target}: no such heading"


def test_the_readme_is_a_front_page() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) < 200
    # It opens with the two commands that set a fresh machine up, before anything else.
    opening = "\n".join(lines[:8])
    assert "make demo" in opening and "make test" in opening
    assert (ROOT / "MANUAL.md").is_file() and "(MANUAL.md)" in README.read_text()
    assert any("pip install dnschaos" in line for line in lines)
    assert (ROOT / "docs" / "report.png").is_file()


def _source_copy(dest: Path) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / name.decode()
        if src.is_file():
            (dest / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name.decode())
    return dest


def _installed(tmp_path: Path) -> Path:
    """A fresh environment with dnschaos installed from the sources as a user installs it
    (a wheel, not the checkout); its dependencies come from this environment, offline."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "dependencies.pth").write_text(ours + "\n")
    uv = Path(sys.prefix) / "uv" / "bin" / "uv"  # in the venv that runs the suite
    if not uv.exists():
        pytest.skip("uv (make venv) installs the wheel offline")
    source = _source_copy(tmp_path / "source")
    done = subprocess.run(
        [
            str(uv),
            "--no-config",
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            "--no-deps",
            "--no-build-isolation",
            "--offline",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The user's project has pytest installed; here its package comes from this
    # environment, so its console script is written for the new one.
    script = venv / "bin" / "pytest"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nimport pytest\n\n"
        "sys.exit(pytest.console_main())\n"
    )
    script.chmod(0o755)
    return venv / "bin"


def test_the_readme_example_walks_end_to_end(tmp_path: Path) -> None:
    bin_dir = _installed(tmp_path)
    work = tmp_path / "project"
    work.mkdir()
    version = _sh("dnschaos --version", work, bin_dir)
    assert version.returncode == 0 and version.stdout.startswith("dnschaos "), version.stderr
    found = blocks(README)
    titled = [b for b in found if b.title]
    assert {b.title for b in titled} == {"drain.py", "test_drain.py"}
    for block in titled:
        (work / str(block.title)).write_text(block.body)
    run = next(
        c for b in found if b.lang == "console" for c in commands(b) if c[0].startswith("pytest")
    )
    assert run == ("pytest test_drain.py", 1)
    failed = _sh(run[0], work, bin_dir)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    out = failed.stdout
    assert "ChaosFailure: test_two_drains_never_empty_the_pool · seed" in out, out
    assert "every weight is 0: app.example.com serves no one" in out
    # Each command the failure prints exits as the README says: the pytest line fails the
    # same way again (1), the report line writes the page (0).
    printed = re.search(r"reproduce:\n(.*?)\nE?\s*result: ", out, re.S)
    assert printed is not None, out
    lines = [re.sub(r"^E?\s+", "", line) for line in printed[1].splitlines()]
    page = re.search(r"as a page: (dnschaos report .*)$", out, re.M)
    assert lines and page is not None, out
    seed = re.search(r"test_two_drains_never_empty_the_pool · seed (\d+)", out)
    assert seed is not None
    for line in lines:
        assert line.startswith("pytest "), line
        again = _sh(line.split("    #")[0], work, bin_dir)
        assert again.returncode == 1, line + again.stdout
        assert f"seed {seed[1]}" in again.stdout
    report = _sh(page[1], work, bin_dir)
    assert report.returncode == 0, report.stderr
    assert "every weight is 0" in (work / "page.html").read_text()
    # The seed pinned in code, as the README says, fails with no option at all.
    test_file = work / "test_drain.py"
    test_file.write_text(
        test_file.read_text().replace("chaos(runs=20)", f"chaos(runs=20, seed={seed[1]})")
    )
    pinned = _sh("pytest -p no:cacheprovider test_drain.py", work, bin_dir)
    assert pinned.returncode == 1 and f"seed {seed[1]}" in pinned.stdout, pinned.stdout


# ------------------------------------------------------------------ the scenario schema

SCENARIOS = [
    ROOT / name
    for name in subprocess.run(
        ["git", "ls-files", "*.toml"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    if name not in ("pyproject.toml", "tools/mutate.toml")
]


def test_the_schema_is_installed_and_printed(tmp_path: Path) -> None:
    shipped = importlib.resources.files("dnschaos").joinpath("scenario.schema.json").read_text()
    printed = _sh("dnschaos schema", tmp_path)
    assert printed.returncode == 0
    assert json.loads(printed.stdout) == json.loads(shipped)


def test_every_scenario_in_the_repository_validates(tmp_path: Path) -> None:
    assert len(SCENARIOS) >= 8
    schema = importlib.resources.files("dnschaos").joinpath("scenario.schema.json")
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--schemafile", str(schema), *map(str, SCENARIOS)],
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    linted = _taplo(schema, *SCENARIOS)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def _taplo(schema: object, *files: Path) -> subprocess.CompletedProcess[str]:
    """``taplo check`` with the shipped schema, as an editor's TOML support runs it."""
    return subprocess.run(
        [
            str(BIN / "taplo"),
            "check",
            "--no-auto-config",
            "--colors",
            "never",
            "--schema",
            Path(str(schema)).as_uri(),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )


def test_a_misspelled_key_is_refused_with_its_line(tmp_path: Path) -> None:
    schema = importlib.resources.files("dnschaos").joinpath("scenario.schema.json")
    for source in SCENARIOS:
        text = source.read_text()
        match = re.search(r"^(duration) = ", text, re.M)
        if match is None:
            continue
        # Beside what it names (its actors' modules and scripts), as in its own folder.
        home = tmp_path / str(SCENARIOS.index(source))
        home.mkdir()
        for sibling in source.parent.iterdir():
            if sibling != source:
                (home / sibling.name).symlink_to(sibling)
        bad = home / source.name
        bad.write_text(text[: match.start()] + "x" + text[match.start() :])
        line = text.count("\n", 0, match.start()) + 1
        checked = subprocess.run(
            [str(BIN / "check-jsonschema"), "--schemafile", str(schema), str(bad)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 1 and f"'x{match[1]}' was unexpected" in checked.stdout
        # check-jsonschema reads TOML as data and cannot say where; taplo points at the key.
        linted = _taplo(schema, bad)
        assert linted.returncode == 1, linted.stdout + linted.stderr
        assert f"'x{match[1]}' was unexpected" in linted.stderr
        assert f"{bad}:{line}:1\n" in linted.stderr, linted.stderr
        if source.parent.name == "integration" or source.name == "ops.toml":
            continue  # its actors' modules are not importable from here: the schema suffices
        loaded = _sh(f"dnschaos run {shlex.quote(str(bad))} -q", tmp_path)
        assert loaded.returncode == 2, loaded.stderr
        assert f"{bad}:{line}: " in loaded.stderr and f"x{match[1]}: unknown key" in loaded.stderr
