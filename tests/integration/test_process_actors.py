"""Process actors: a separate program whose AWS requests go through the loopback gate.

Each run here starts real processes (the Python running the tests, with boto3, and
where installed the AWS CLI from requirements/awscli-lock.txt), so the runs are few
and short: a pair of read-modify-write scripts, a crash, a hang, a hostile environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from dnschaos.runner import run
from dnschaos.scenario.spec import RunSpec

REPO = Path(__file__).resolve().parents[2]
APPEND = REPO / "examples" / "external" / "txt_append.py"
# make installs the AWS CLI beside the venv that runs the suite (.venv, .venv-oldest...).
AWSCLI = Path(sys.prefix) / "awscli" / "bin"

WORLD = """
[scenario]
name = "process-actors"
duration = 300

[world]
propagation_delay = 20.0

[[world.zones]]
name = "example.com"
records = [{ name = "_tally.example.com", type = "TXT", ttl = 60, values = ['"seed"'] }]
"""

RACE = """
[[actors]]
name = "writer-a"
command = ["{{python}}", "{script}", "_tally.example.com.", "a"]

[[actors]]
name = "writer-b"
command = ["{{python}}", "{script}", "_tally.example.com.", "b"]

[[invariants]]
function = "dnschaos.invariants:converges_to"
name = "every-value-kept"
when = "end"
args = {{ desired = {{ "_tally.example.com/TXT" = ['"seed"', '"a"', '"b"'] }} }}
{extra}
"""


def _scenario(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _race(tmp_path: Path, extra: str = "") -> Path:
    return _scenario(tmp_path, WORLD + RACE.format(script=APPEND, extra=extra))


def _requests(history: Any) -> list[tuple[str, str, str]]:
    """The request sequence: who asked for what, in order."""
    return [
        (e["actor"], e["op"], json.dumps(e["params"], sort_keys=True))
        for e in history
        if e["kind"] == "invoke"
    ]


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "dnschaos"
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, cwd=cwd, timeout=600, env=env
    )


def test_a_lost_update_between_two_processes_is_found_and_replays(tmp_path: Path) -> None:
    path = _race(tmp_path)
    found: dict[str, Any] = {}
    for seed in range(1, 9):
        result = run(RunSpec(str(path), seed=seed))
        found.setdefault(result.verdict, result)
        if {"pass", "fail"} <= set(found):
            break
    assert {"pass", "fail"} <= set(found), {v: r.spec.seed for v, r in found.items()}
    lost = found["fail"]
    assert "every-value-kept" in {v.invariant for v in lost.violations}
    writes = [
        e for e in lost.history if e["kind"] == "invoke" and e["op"] == "ChangeResourceRecordSets"
    ]
    assert {e["actor"] for e in writes} == {"writer-a", "writer-b"}
    # Each process read the record before the other wrote: each wrote "seed" and its own.
    assert sorted(e["params"]["changes"][0] for e in writes) == [
        'UPSERT _tally.example.com. TXT "seed","a"',
        'UPSERT _tally.example.com. TXT "seed","b"',
    ]
    starts = [e for e in lost.history if e["kind"] == "event" and e["event"] == "process-start"]
    assert {e["actor"] for e in starts} == {"writer-a", "writer-b"}
    assert "sleeps" in starts[0]["controlled"]
    # The INSYNC waits took virtual time (propagation 20 s), not wall time.
    assert lost.virtual_seconds >= 20.0

    again = run(lost.spec, replay=lost.choices)
    assert again.trace_digest == lost.trace_digest
    assert _requests(again.history) == _requests(lost.history)
    rerun = run(lost.spec)
    assert rerun.trace_digest == lost.trace_digest


def test_a_fault_at_the_gate_reaches_the_process(tmp_path: Path) -> None:
    fault = """
[[faults]]
name = "throttle-a"
kind = "error"
code = "Throttling"
match = { actor = "writer-a", operation = "ChangeResourceRecordSets", nth = 1 }
"""
    result = run(RunSpec(str(_race(tmp_path, fault)), seed=1))
    changes = [
        e
        for e in result.history
        if e["kind"] == "complete"
        and e["actor"] == "writer-a"
        and e["op"] == "ChangeResourceRecordSets"
    ]
    # The process's own SDK saw the throttling answer and retried (its backoff on the
    # run's clock): one refused attempt, then one that went through.
    assert [c["outcome"].get("error") for c in changes] == ["Throttling", None]
    hits = [e for e in result.history if e["kind"] == "fault" and e.get("action") == "hit"]
    assert [h["actor"] for h in hits] == ["writer-a"]
    assert not [e for e in result.history if e["kind"] == "actor-error"]


def test_a_crashing_process_is_an_actor_error_with_its_stderr(tmp_path: Path) -> None:
    text = WORLD + (
        '[[actors]]\nname = "crasher"\n'
        'command = ["{python}", "-c", "import sys; sys.stderr.write(\'boom-7f3\'); sys.exit(3)"]\n'
    )
    # A folder left by a killed run (its owner is gone) is swept by the next run.
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(gone.stdout)
    stale = Path(tempfile.gettempdir()) / f"dnschaos-process-{dead}-stale31"
    stale.mkdir(exist_ok=True)
    (stale / "owner").write_text(f"{dead} 1\n")
    before = set(Path(tempfile.gettempdir()).glob(f"dnschaos-process-{os.getpid()}-*"))
    result = run(RunSpec(str(_scenario(tmp_path, text)), seed=1))
    assert not stale.exists()
    # and this run's own folder is gone with its process
    assert set(Path(tempfile.gettempdir()).glob(f"dnschaos-process-{os.getpid()}-*")) == before
    assert result.verdict == "fail"
    (error,) = [e for e in result.history if e["kind"] == "actor-error"]
    assert error["actor"] == "crasher"
    assert error["type"] == "ProcessError"
    assert "exited with status 3" in error["message"]
    assert "boom-7f3" in error["message"]


def _hanging(tmp_path: Path, timeout: float) -> tuple[Path, str]:
    """A scenario whose one process writes its pid to a file and then waits forever
    (in a way no shim makes virtual)."""
    pid_file = tmp_path / "pid"
    code = (
        "import os, select; "
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
        "select.select([], [], [])"
    )
    actor = f'name = "hanger"\ntimeout = {timeout}\ncommand = ["{{python}}", "-c", "{code}"]\n'
    return pid_file, WORLD + "[[actors]]\n" + actor


def test_a_hung_process_is_killed_and_judged(tmp_path: Path) -> None:
    pid_file, text = _hanging(tmp_path, 5.0)
    result = run(RunSpec(str(_scenario(tmp_path, text)), seed=1))
    assert result.verdict == "fail"
    (error,) = [e for e in result.history if e["kind"] == "actor-error"]
    assert error["actor"] == "hanger"
    assert "sent no request and did not exit within 5 s" in error["message"]
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


PROBE = """
import json, os, sys, boto3
home = os.environ["HOME"]
out = {
    "env": {k: v for k, v in os.environ.items()},
    "aws_dir": os.path.exists(os.path.join(home, ".aws")),
    "config": open(os.environ["AWS_CONFIG_FILE"]).read(),
    "credentials": open(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).read(),
    "zones": [z["Name"] for z in boto3.client("route53").list_hosted_zones()["HostedZones"]],
}
open(sys.argv[1], "w").write(json.dumps(out))
"""


def test_a_hostile_environment_does_not_reach_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text(
        "[default]\nendpoint_url = http://127.0.0.1:9\nregion = eu-west-1\n"
    )
    (aws / "credentials").write_text("[default]\naws_access_key_id = AKIAREALLOOKING00000\n")
    hostile = {
        "AWS_ACCESS_KEY_ID": "AKIAREALLOOKING00000",
        "AWS_SECRET_ACCESS_KEY": "real-looking-secret",
        "AWS_PROFILE": "production",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_ROUTE_53": "http://127.0.0.1:9",
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_CA_BUNDLE": "/nonexistent.pem",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "LD_PRELOAD": "/nonexistent.so",
        "NODE_OPTIONS": "--require /nonexistent.js",
    }
    for key, value in hostile.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "seen.json"
    (tmp_path / "probe.py").write_text(PROBE)
    text = WORLD + f'[[actors]]\nname = "probe"\ncommand = ["{{python}}", "probe.py", "{out}"]\n'
    result = run(RunSpec(str(_scenario(tmp_path, text)), seed=1))
    assert result.verdict == "pass", [e for e in result.history if e["kind"] == "actor-error"]
    seen = json.loads(out.read_text())
    env = seen["env"]
    assert seen["zones"] == ["example.com."]  # answered by the run's world, through the gate
    gate = env["AWS_ENDPOINT_URL"]
    assert gate.startswith("http://127.0.0.1:") and gate != "http://127.0.0.1:9"
    assert env["DNSCHAOS_GATE"] == gate
    assert env["AWS_ACCESS_KEY_ID"] != hostile["AWS_ACCESS_KEY_ID"]
    assert env["AWS_SECRET_ACCESS_KEY"] != hostile["AWS_SECRET_ACCESS_KEY"]
    for key in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL_ROUTE_53",
        "AWS_CA_BUNDLE",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "NODE_OPTIONS",
    ):
        assert key not in env, key
    assert env["AWS_CONFIG_FILE"] != hostile["AWS_CONFIG_FILE"]
    assert seen["config"] == "" and seen["credentials"] == ""
    assert env["HOME"] != os.path.expanduser("~") and not seen["aws_dir"]
    assert "/nonexistent" not in env.get("LD_PRELOAD", "")


NETWORK_PROBE = """
import json, socket, sys, boto3
out = {"zones": [z["Name"] for z in boto3.client("route53").list_hosted_zones()["HostedZones"]]}
for name, host, port in [
    ("harness-loopback", "127.0.0.1", int(sys.argv[2])),
    ("off-machine", "192.0.2.1", 443),
    ("metadata", "169.254.169.254", 80),
]:
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, port))
        out[name] = "connected"
    except OSError as exc:
        out[name] = exc.__class__.__name__
    finally:
        s.close()
open(sys.argv[1], "w").write(json.dumps(out))
"""


def test_a_process_reaches_the_gate_and_nothing_else(tmp_path: Path) -> None:
    # A listener of this process on loopback, which a process on the same network could
    # reach: the process actor must not (nor anything off the machine).
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    out = tmp_path / "seen.json"
    (tmp_path / "probe.py").write_text(NETWORK_PROBE)
    command = f'["{{python}}", "probe.py", "{out}", "{port}"]'
    text = WORLD + f'[[actors]]\nname = "probe"\ncommand = {command}\n'
    try:
        result = run(RunSpec(str(_scenario(tmp_path, text)), seed=1))
    finally:
        listener.close()
    assert result.verdict == "pass", [e for e in result.history if e["kind"] == "actor-error"]
    seen = json.loads(out.read_text())
    assert seen["zones"] == ["example.com."]  # the gate answers
    start = next(e for e in result.history if e.get("event") == "process-start")
    # The suite runs as root in CI, where a network namespace can be made; elsewhere the
    # run must say that the network was not isolated.
    if os.geteuid() == 0:
        assert (
            "network (isolated: its own network namespace, the gate alone on its loopback)"
            in (start["controlled"])
        )
        assert seen["harness-loopback"] == "ConnectionRefusedError", seen
        assert seen["off-machine"] != "connected" and seen["metadata"] != "connected", seen
    else:
        assert any(u.startswith("network (not isolated") for u in start["uncontrolled"])


@pytest.mark.parametrize(
    ("actor", "says"),
    [
        (
            'name = "ghost"\ncommand = ["no-such-program-dnschaos-31"]',
            "actors[0].command: ['no-such-program-dnschaos-31'] is not a program on PATH "
            "(no-such-program-dnschaos-31 is not), or a path to one, for actor ghost",
        ),
        (
            'name = "ghost"\ncommand = ["./missing.sh"]',
            "missing.sh is not), for actor ghost",
        ),
        ('name = "ghost"\ncommand = []', "actors[0].command: [] is not a non-empty list"),
        (
            'name = "ghost"\ncommand = ["{python}"]\nenv = { AWS_PROFILE = "prod" }',
            "actors[0].env.AWS_PROFILE: 'AWS_PROFILE' is not a variable actor ghost may set",
        ),
        (
            'name = "ghost"\ncommand = ["{python}"]\nfunction = "m:f"',
            "actors[0].function: 'm:f' is not allowed beside command (actor ghost)",
        ),
        (
            'name = "ghost"\ntimeout = 3.0\nfunction = "m:f"',
            "actors[0].timeout: 3.0 is not allowed without command",
        ),
        (
            'name = "ghost"',
            "actors[0].function: None is not given; an actor has a function or a command",
        ),
        (
            'name = "ghost"\ncommand = ["{python}"]\ncwd = "nowhere"',
            "actors[0].cwd: 'nowhere' is not a folder",
        ),
    ],
)
def test_a_bad_process_actor_exits_2_naming_it(tmp_path: Path, actor: str, says: str) -> None:
    path = _scenario(tmp_path, WORLD + "[[actors]]\n" + actor + "\n")
    done = _cli("run", str(path), "-q", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr


HOOK = REPO / "examples" / "external" / "dns01" / "hook.sh"


@pytest.mark.skipif(not (AWSCLI / "aws").exists(), reason="make venv installs the AWS CLI")
def test_two_aws_cli_hooks_race_for_one_challenge_name(tmp_path: Path) -> None:
    path_env = f"{AWSCLI}:{os.environ.get('PATH', '')}"

    def scenario(wildcard_start: int) -> Path:
        actors = "".join(
            f'[[actors]]\nname = "{n}"\ncommand = ["{HOOK}"]\ntimeout = 120.0\n'
            f'env = {{ VALUE = "{n}-token", START = "{s}", CA_SECONDS = "20", '
            f'PATH = "{path_env}" }}\n'
            for n, s in (("apex", 0), ("wildcard", wildcard_start))
        )
        check = '[[invariants]]\nfunction = "dnschaos.invariants:no_foreign_delete"\n'
        return _scenario(tmp_path, WORLD + actors + check, f"dns01-{wildcard_start}.toml")

    # Apart, each hook removes only its own value; at once, the later UPSERT replaces the
    # earlier hook's value while the CA still looks for it.
    apart = run(RunSpec(str(scenario(55)), seed=1))
    assert apart.verdict == "pass", apart.reason
    raced = run(RunSpec(str(scenario(0)), seed=1))
    assert raced.verdict == "fail"
    (violation,) = raced.violations
    assert violation.invariant == "no-foreign-delete"
    assert "removed _acme-challenge.example.com TXT" in violation.detail
    for result, calls in ((apart, 3), (raced, 2)):  # the race stops at the violation
        ops = [(e["actor"], e["op"]) for e in result.history if e["kind"] == "invoke"]
        for actor in ("apex", "wildcard"):
            mine = [op for who, op in ops if who == actor]
            assert (
                mine[:calls]
                == ["ListHostedZonesByName", "ChangeResourceRecordSets", "GetChange"][:calls]
            )
        errors = [e for e in result.history if e["kind"] == "actor-error"]
        assert not errors, errors
    # The waiters polled on the virtual clock: 20 s of propagation, the CA's 20 s.
    assert apart.virtual_seconds >= 95.0
    from dnschaos.story import tell

    story = "\n".join(tell(raced.history, violation))
    assert "apex UPSERT _acme-challenge.example.com" in story
    assert "wildcard UPSERT _acme-challenge.example.com" in story
    again = run(raced.spec, replay=raced.choices)
    assert again.trace_digest == raced.trace_digest
    assert _requests(again.history) == _requests(raced.history)


@pytest.mark.skipif(not (AWSCLI / "aws").exists(), reason="make venv installs the AWS CLI")
def test_fuzz_finds_the_dns01_race_of_two_aws_cli_processes_and_replay_gives_its_requests(
    tmp_path: Path,
) -> None:
    # The example as a user runs it: dnschaos fuzz on the scenario file, the AWS CLI on
    # PATH. Latency at the gate decides whether one hook's UPSERT replaces the other's
    # value while the CA looks for it: of campaign seed 1's first three cases, 0 and 1
    # lose the value and 2 does not.
    env = {**os.environ, "PATH": f"{AWSCLI}:{os.environ.get('PATH', '')}", "PYTHONHASHSEED": "0"}
    store = tmp_path / "store"
    here = REPO / "examples" / "external"
    argv = ["fuzz", "dns01_race.toml", "--budget", "3", "--workers", "1", "--seed", "1"]
    fuzzed = _cli(*argv, "--no-shrink", "--store", str(store), cwd=here, env=env)
    assert fuzzed.returncode == 1, fuzzed.stderr
    campaign = json.loads((store / "campaign.json").read_text())
    assert (campaign["runs"], campaign["failures"]) == (3, 2)  # some cases, not all
    assert "apex UPSERT _acme-challenge.example.com" in fuzzed.stdout
    assert "wildcard UPSERT _acme-challenge.example.com" in fuzzed.stdout
    assert "wildcard removed _acme-challenge.example.com TXT" in fuzzed.stdout
    replayed = _cli("replay", str(store / "failure-000000.json"), cwd=here, env=env)
    assert replayed.returncode == 1, replayed.stderr
    assert "replay matches the recording" in replayed.stdout
    assert "process actors: apex, wildcard" in replayed.stdout


def test_a_function_actor_beside_its_scenario_file_is_found_from_any_folder(
    tmp_path: Path,
) -> None:
    # Before the fix, the check of an actor's workload imported it before the scenario's
    # folder was on sys.path: exit 2, "cannot import", unless run from that folder.
    (tmp_path / "beside_31.py").write_text(
        "import boto3\n\ndef main():\n    boto3.client('route53').list_hosted_zones()\n"
    )
    text = WORLD + '[[actors]]\nname = "py"\nfunction = "beside_31:main"\n'
    path = _scenario(tmp_path, text)
    done = _cli("run", str(path), "-q", cwd=REPO)
    assert done.returncode == 0, done.stderr


NODE = REPO / "examples" / "external" / "node"


@pytest.mark.skipif(
    shutil.which("node") is None or not (NODE / "node_modules").is_dir(),
    reason="needs node and examples/external/node/node_modules (make node-actor)",
)
def test_a_node_process_races_a_python_actor_under_latency_at_the_gate() -> None:
    result = run(RunSpec(str(REPO / "examples" / "external" / "node_race.toml"), seed=1))
    errors = [e for e in result.history if e["kind"] == "actor-error"]
    assert not errors, errors
    ops = {
        who: [e["op"] for e in result.history if e["kind"] == "invoke" and e["actor"] == who]
        for who in ("node", "python")
    }
    for who in ("node", "python"):
        assert ops[who][:3] == [
            "ListHostedZonesByName",
            "ListResourceRecordSets",
            "ChangeResourceRecordSets",
        ], ops
        assert ops[who][3:] and set(ops[who][3:]) == {"GetChange"}, ops
    hits = [e for e in result.history if e["kind"] == "fault" and e.get("action") == "hit"]
    assert len(hits) == len(ops["node"]) and {h["actor"] for h in hits} == {"node"}
    # Every call of the Node process took the fault's 2 s of virtual time.
    node = [
        e
        for e in result.history
        if e["kind"] in ("invoke", "complete") and e.get("actor") == "node"
    ]
    spans = [done["t"] - ask["t"] for ask, done in zip(node[::2], node[1::2], strict=True)]
    assert spans and min(spans) >= 2.0, spans
    again = run(result.spec, replay=result.choices)
    assert again.trace_digest == result.trace_digest


LOOP = """
import time, boto3
route53 = boto3.client("route53")
while True:
    route53.list_hosted_zones()
    time.sleep(10)
"""


def test_a_process_that_never_ends_is_stopped_when_the_duration_is_over(tmp_path: Path) -> None:
    (tmp_path / "loop.py").write_text(LOOP)
    text = WORLD.replace("duration = 300", "duration = 60") + (
        '[[actors]]\nname = "looper"\ncommand = ["{python}", "loop.py"]\n'
    )
    result = run(RunSpec(str(_scenario(tmp_path, text)), seed=1))
    assert result.verdict == "pass", result.reason
    stopped = [
        e for e in result.history if e["kind"] == "event" and e["event"] == "process-stopped"
    ]
    assert [e["actor"] for e in stopped] == ["looper"]
    calls = [e for e in result.history if e["kind"] == "invoke"]
    # One call every 10 virtual seconds until the 60 s are over, then the next is refused.
    assert 6 <= len(calls) <= 8, len(calls)
    assert stopped[0]["t"] >= 60.0


def test_a_simulation_takes_a_process_actor(tmp_path: Path) -> None:
    import dnschaos
    from dnschaos.errors import UsageError

    sim = dnschaos.Simulation("process-api", duration=60)
    sim.zone("example.com", records=[("www.example.com", "A", 60, ["192.0.2.1"])])
    code = "import boto3; boto3.client('route53').list_hosted_zones()"
    sim.process("lister", ["{python}", "-c", code], cwd=str(tmp_path))
    result = sim.run(seed=1)
    assert result.verdict == "pass", result.reason
    assert [e["op"] for e in result.history if e["kind"] == "invoke"] == ["ListHostedZones"]
    with pytest.raises(UsageError, match=r"process actor ghost: command: .* for actor ghost"):
        sim.process("ghost", ["no-such-program-dnschaos-31"])
    with pytest.raises(UsageError, match=r"env\.AWS_REGION"):
        sim.process("ghost", ["{python}"], env={"AWS_REGION": "eu-west-1"})


def test_a_killed_harness_leaves_no_process_and_the_next_run_sweeps_its_folder(
    tmp_path: Path,
) -> None:
    import signal
    import time

    pid_file, text = _hanging(tmp_path, 300.0)
    path = _scenario(tmp_path, text)
    harness = subprocess.Popen(
        [str(Path(sys.executable).parent / "dnschaos"), "run", str(path), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(1200):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.1)
        child = int(pid_file.read_text())
        folders = list(Path(tempfile.gettempdir()).glob(f"dnschaos-process-{harness.pid}-*"))
        assert len(folders) == 1
    finally:
        harness.send_signal(signal.SIGKILL)
        harness.wait()
    for _ in range(100):  # the parent-death signal
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the process outlived the harness that was killed")
    assert folders[0].exists()  # nothing ran to remove it...
    crash = WORLD + '[[actors]]\nname = "quick"\ncommand = ["{python}", "-c", "pass"]\n'
    assert run(RunSpec(str(_scenario(tmp_path, crash, "next.toml")), seed=1)).verdict == "pass"
    assert not folders[0].exists()  # ...until the next run's sweep
