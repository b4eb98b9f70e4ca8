"""The moto targets read no AWS configuration: a hostile environment changes nothing.

A real ``dnschaos run`` runs in a child process twice: once in a clean environment,
once with every AWS setting pointing somewhere harmful (an endpoint on a closed
port, FIPS and dual-stack endpoints, a profile whose credential_process leaves a
mark, config and credentials files in HOME and elsewhere, a proxy). The child runs
under an audit hook (``sys.addaudithook``) that records every file opened or listed,
every process spawned and every address connected to, so the test shows not only
that the verdict and trace digest are the same but that nothing was even looked at.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dnschaos.adapters.aws.moto_server import moto_server

RUN = ["run", "incident-2025", "--variant", "safe", "--seed", "7", "-q"]

# Runs the dnschaos console script exactly as installed, under an audit hook.
_AUDITED = textwrap.dedent(
    """
    import atexit, json, runpy, sys

    log_path, script, *args = sys.argv[1:]
    seen = {"open": [], "spawn": [], "connect": [], "resolve": []}
    done = False

    def hook(event, args):
        if done:
            return
        if event in ("open", "os.listdir", "os.scandir"):
            path = args[0]
            if isinstance(path, bytes):
                path = path.decode(errors="replace")
            if isinstance(path, str):
                seen["open"].append(path)
        elif event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system"):
            seen["spawn"].append(repr(args))
        elif event in ("socket.connect", "socket.sendto"):
            seen["connect"].append(repr(args[1]) if not isinstance(args[1], tuple) else
                                   [str(part) for part in args[1][:2]])
        elif event == "socket.getaddrinfo":
            seen["resolve"].append(str(args[0]))

    def write():
        global done
        done = True
        with open(log_path, "w") as fh:
            json.dump(seen, fh)

    atexit.register(write)  # registered first, so it runs after every other exit hook
    sys.addaudithook(hook)
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")
    """
)


@dataclass
class Audit:
    opened: list[str]
    spawned: list[str]
    connected: list[Any]
    resolved: list[str]


@dataclass
class Outcome:
    code: int
    result: dict[str, Any]
    audit: Audit
    output: str


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections for as long as the test holds it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound, never listening: connect() is refused
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def hostile_files(root: Path, port: int, marker: Path) -> dict[str, Path]:
    """AWS config and credentials files that would redirect or break a run if read."""
    root.mkdir(parents=True, exist_ok=True)
    process = root / "credential-process"
    process.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        f"pathlib.Path({str(marker)!r}).touch()\n"
        'print(\'{"Version": 1, "AccessKeyId": "AKIAHOSTILE", "SecretAccessKey": "x"}\')\n'
    )
    process.chmod(0o755)
    config = textwrap.dedent(
        f"""
        [default]
        region = eu-west-3
        endpoint_url = http://127.0.0.1:{port}
        use_fips_endpoint = true
        use_dualstack_endpoint = true
        credential_process = {process}
        [profile hostile]
        region = eu-west-3
        endpoint_url = http://127.0.0.1:{port}
        use_fips_endpoint = true
        use_dualstack_endpoint = true
        ca_bundle = {root / "no-such-bundle.pem"}
        defaults_mode = auto
        credential_process = {process}
        services = hostile-services
        [services hostile-services]
        route53 =
          endpoint_url = http://127.0.0.1:{port}
        dynamodb =
          endpoint_url = http://127.0.0.1:{port}
        """
    )
    credentials = "[hostile]\naws_access_key_id = AKIAHOSTILE\naws_secret_access_key = x\n"
    made: dict[str, Path] = {}
    for name in ("home/.aws", "elsewhere"):
        directory = root / name
        directory.mkdir(parents=True)
        (directory / "config").write_text(config)
        (directory / "credentials").write_text(credentials)
        made[name] = directory
    # Service models botocore would load instead of its own: AWS_DATA_PATH's and
    # ~/.aws/models (where botocore looks by default).
    models = root / "models" / "route53"
    models.mkdir(parents=True)
    (made["home/.aws"] / "models" / "route53").mkdir(parents=True)
    made["models"] = models.parent
    return made


def hostile_environment(root: Path, port: int, marker: Path) -> tuple[dict[str, str], list[Path]]:
    files = hostile_files(root, port, marker)
    closed = f"http://127.0.0.1:{port}"
    env = {
        "HOME": str(root / "home"),
        "AWS_CONFIG_FILE": str(files["elsewhere"] / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(files["elsewhere"] / "credentials"),
        "AWS_PROFILE": "hostile",
        "AWS_DEFAULT_PROFILE": "hostile",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "AKIAHOSTILEENV",
        "AWS_SECRET_ACCESS_KEY": "hostile",
        "AWS_SESSION_TOKEN": "hostile",
        "AWS_ENDPOINT_URL": closed,
        "AWS_ENDPOINT_URL_ROUTE_53": closed,
        "AWS_ENDPOINT_URL_DYNAMODB": closed,
        "AWS_USE_FIPS_ENDPOINT": "true",
        "AWS_USE_DUALSTACK_ENDPOINT": "true",
        "AWS_CA_BUNDLE": str(root / "no-such-bundle.pem"),
        "AWS_DATA_PATH": str(files["models"]),
        "AWS_DEFAULTS_MODE": "auto",
        "AWS_MAX_ATTEMPTS": "9",
        "AWS_RETRY_MODE": "adaptive",
        "AWS_CSM_ENABLED": "true",
        "AWS_CSM_PORT": str(port),
        "AWS_EXECUTION_ENV": "hostile",
        "AWS_LAMBDA_FUNCTION_NAME": "hostile",
        "_X_AMZN_TRACE_ID": "hostile",
        "REQUESTS_CA_BUNDLE": str(root / "no-such-bundle.pem"),
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "http_proxy": closed,
        "https_proxy": closed,
        "ALL_PROXY": closed,
        "TEST_SERVER_MODE": "true",
        "TEST_PROXY_MODE": "true",
    }
    return env, [files["home/.aws"], files["elsewhere"], files["models"], root / "home"]


def base_environment(home: Path) -> dict[str, str]:
    """The test's environment without AWS, proxy or moto settings, and a HOME of its own."""
    drop = ("AWS_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(drop)
        and key not in ("MOTO_ACCOUNT_ID", "TEST_SERVER_MODE", "TEST_PROXY_MODE")
    }
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    return env


def run_audited(tmp: Path, env: dict[str, str], *extra: str) -> Outcome:
    tmp.mkdir(parents=True, exist_ok=True)
    wrapper = tmp / "audited.py"
    wrapper.write_text(_AUDITED)
    log, result = tmp / "audit.json", tmp / "result.json"
    script = Path(sys.executable).parent / "dnschaos"
    assert script.exists(), f"the console script is not installed at {script}"
    done = subprocess.run(
        [sys.executable, str(wrapper), str(log), str(script), *RUN, *extra, "--json", str(result)],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert log.exists(), f"no audit log; the run said:\n{output[-3000:]}"
    assert result.exists(), f"no result (exit {done.returncode}); the run said:\n{output[-3000:]}"
    seen = json.loads(log.read_text())
    return Outcome(
        done.returncode,
        json.loads(result.read_text()),
        Audit(seen["open"], seen["spawn"], seen["connect"], seen["resolve"]),
        output,
    )


def under(path: str, roots: list[Path]) -> bool:
    resolved = Path(os.path.abspath(path))
    return any(resolved == root or root in resolved.parents for root in roots)


def is_loopback(address: Any) -> bool:
    if not isinstance(address, list):
        return False  # a Unix socket path or something stranger: not expected at all
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def assert_untouched(outcome: Outcome, roots: list[Path], marker: Path, port: int) -> None:
    audit = outcome.audit
    touched = [path for path in audit.opened if under(path, roots)]
    assert touched == [], f"files of the hostile configuration were opened or listed: {touched}"
    assert not marker.exists(), "the profile's credential_process ran"
    assert audit.spawned == [], f"the run started processes: {audit.spawned}"
    outside = [address for address in audit.connected if not is_loopback(address)]
    assert outside == [], f"the run connected beyond loopback: {outside}"
    to_closed = [address for address in audit.connected if address[1] == str(port)]
    assert to_closed == [], f"the run followed a hostile endpoint or proxy: {to_closed}"


def assert_same_run(clean: Outcome, hostile: Outcome) -> None:
    assert clean.code == 0, clean.output[-3000:]
    assert clean.result["verdict"] == "pass"
    assert (hostile.code, hostile.result["verdict"], hostile.result["trace_digest"]) == (
        clean.code,
        clean.result["verdict"],
        clean.result["trace_digest"],
    ), hostile.output[-3000:]


def test_in_process_moto_ignores_every_aws_setting(tmp_path: Path, refused_port: int) -> None:
    marker = tmp_path / "credential-process-ran"
    clean = run_audited(tmp_path / "clean", base_environment(tmp_path / "clean-home"))
    hostile_env, roots = hostile_environment(tmp_path / "hostile", refused_port, marker)
    hostile = run_audited(
        tmp_path / "hostile-run", {**base_environment(tmp_path / "unused"), **hostile_env}
    )
    assert_same_run(clean, hostile)
    assert_untouched(hostile, roots, marker, refused_port)
    # In-process moto answers inside the process: no connection at all.
    assert hostile.audit.connected == [] == clean.audit.connected


def test_moto_server_target_ignores_every_aws_setting(tmp_path: Path, refused_port: int) -> None:
    marker = tmp_path / "credential-process-ran"
    hostile_env, roots = hostile_environment(tmp_path / "hostile", refused_port, marker)
    with moto_server() as url:
        target = ["--target", "moto-server", "--endpoint-url", url]
        clean = run_audited(tmp_path / "clean", base_environment(tmp_path / "clean-home"), *target)
        hostile = run_audited(
            tmp_path / "hostile-run",
            {**base_environment(tmp_path / "unused"), **hostile_env},
            *target,
        )
    assert_same_run(clean, hostile)
    assert_untouched(hostile, roots, marker, refused_port)
    server_port = url.rsplit(":", 1)[1]
    assert hostile.audit.connected, "the run never reached the server"
    assert {address[1] for address in hostile.audit.connected} == {server_port}
