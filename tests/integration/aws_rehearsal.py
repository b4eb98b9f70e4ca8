"""The --target aws rehearsal: the whole real-account code path against a loopback stand-in.

``make aws-rehearsal`` (``python -m tests.integration.aws_rehearsal``) and
tests/integration/test_aws_rehearsal.py run it:

1. a moto server started with a stand-in token (the only way it may stand in for AWS);
2. incident-2025, variant legacy, seed 7 on in-process moto finds the race;
3. that recording is replayed in order against the stand-in through ``--target aws``
   (guard, journal, tags, budget, GetChange, DNS probes through the embedded responder,
   cleanup): recorded and replayed verdicts side by side, the same violation expected;
4. a second run against the stand-in is killed with SIGKILL halfway; ``dnschaos cleanup``
   then leaves the stand-in's zones and tables exactly as before, and a second cleanup
   finds nothing;
5. every attack of :mod:`.aws_attacks` on the guard and on cleanup (endpoint overrides by
   every route, a fake STS answering an allowed account, a forged stand-in token, a
   forging proxy, journals naming foreign resources, a path-traversing run id, corrupt
   journals): each refused, exit 2, with 0 create and 0 delete calls on every server.

It lives under tests/ and is not installed: the stand-in token and this driver exist for
CI, not for users.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnschaos.adapters.aws.real import BadJournal, RealAwsOptions, read_journal
from dnschaos.adapters.aws.target import TargetSpec

from .aws_standin import StandIn, stand_in

SCENARIO = ("incident-2025", "legacy", 7)


@dataclass
class Rehearsal:
    recorded_verdict: str = ""
    recorded_invariant: str | None = None
    replayed_verdict: str = ""
    replayed_invariant: str | None = None
    probes: int = 0
    cleanup_output: str = ""
    second_cleanup_output: str = ""
    before: Any = None
    after_kill: Any = None
    after_cleanup: Any = None
    attacks: dict[str, Any] = field(default_factory=dict)  # name -> aws_attacks.Outcome
    lines: list[str] = field(default_factory=list)


@contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for a while."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _cli(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from dnschaos.cli import main; sys.exit(main())",
        *args,
    ]


@contextmanager
def _responder(standin: StandIn) -> Iterator[Callable[[str, str], list[tuple[str, int]]]]:
    """The project's embedded responder serving the stand-in's zones (read through its API):
    the stand-in's own name servers, since a moto server serves no DNS."""
    from dnschaos.adapters.dnsserve.dataplane import DataPlane
    from dnschaos.adapters.dnsserve.embedded import EmbeddedResponder
    from dnschaos.world.observer import api_records

    plane = DataPlane({}, random.Random(0))
    read = api_records(standin.client("route53"))
    with EmbeddedResponder(plane) as responder:

        def servers(zone_id: str, zone_name: str) -> list[tuple[str, int]]:
            plane.zones.setdefault(zone_name, lambda: read(zone_id))
            return [(responder.host, responder.port)]

        yield servers


def aws_run(journals: Path, time_scale: str, *extra: str) -> list[str]:
    """The arguments of a ``dnschaos run`` of incident-2025 with --target aws."""
    return [
        *("run", "incident-2025", "--target", "aws", "--allow-real-aws"),
        *("--clock", "real", "--time-scale", time_scale, "--journal-dir", str(journals)),
        *extra,
    ]


def killed_run(standin: StandIn, journals: Path, run_id: str, env: dict[str, str]) -> None:
    """A --target aws run against the stand-in, SIGKILLed once it has made its zone, its table
    and at least 20 record changes (about halfway through the race)."""
    cmd = _cli(*aws_run(journals, "0.05", "--endpoint-url", standin.url, "--run-id", run_id))
    proc = subprocess.Popen(
        cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    path = journals / f"{run_id}.jsonl"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                entries = read_journal(path) if path.exists() else []
            except BadJournal:  # a line being written as it was read: look again
                entries = []
            records = sum(1 for e in entries if e["kind"] == "records")
            if records >= 20 and any(e["op"] == "created" for e in entries):
                break
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise AssertionError(f"the run ended before it was killed: {err}")
            time.sleep(0.05)
        else:
            raise AssertionError("the run made no records within 60s")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    if proc.returncode != -signal.SIGKILL:
        raise AssertionError(f"the run was not killed by SIGKILL (exit {proc.returncode})")


def rehearse(workdir: Path, out: Callable[[str], None] = print) -> Rehearsal:
    """Run the rehearsal; AssertionError names the step that failed."""
    from dnschaos.explore.ordered import ordered_replay, print_replay
    from dnschaos.runner import run

    r = Rehearsal()
    name, variant, seed = SCENARIO
    with stand_in(workdir, propagation_delay=0.3) as standin:
        env = standin.env()
        out(f"== stand-in: moto server {standin.url} with a stand-in token ==")
        r.before = standin.snapshot()
        out(f"== {name} {variant} seed {seed} on in-process moto ==")
        recorded = run(name, variant=variant, seed=seed)
        head = recorded.headline
        r.recorded_verdict = recorded.verdict
        r.recorded_invariant = head.invariant if head else None
        out(f"{recorded.verdict}: {head.invariant if head else '-'} ({recorded.trace_digest[:16]})")
        if recorded.verdict != "fail":
            raise AssertionError("the simulation did not find the race")

        out("== ordered replay against the stand-in (--target aws) ==")
        with environment(dict(env)), _responder(standin) as servers:
            target = TargetSpec(
                "aws",
                endpoint_url=standin.url,
                allow_real_aws=True,
                real=RealAwsOptions(journal_dir=str(workdir / "journals"), probe_servers=servers),
            )
            done = ordered_replay(
                recorded.to_json(), target, time_scale=0.05, history=list(recorded.history)
            )
        print_replay(done, out=out)
        again = done.result.headline
        r.replayed_verdict = done.result.verdict
        r.replayed_invariant = again.invariant if again else None
        aws = done.result.aws or {}
        r.probes = sum(1 for p in aws.get("probes", []) if p.get("rcode") == "NOERROR")
        insync = [c for c in aws.get("changes", []) if c["insync_after_s"] is not None]
        out(
            f"run {aws.get('run_id')}: {aws.get('budget', {}).get('api_calls')} API calls, "
            f"{len(insync)} changes seen PENDING -> INSYNC through GetChange, "
            f"{r.probes} DNS probes answered, deleted at the end: "
            f"{', '.join(aws.get('cleanup', {}).get('deleted', []))}"
        )
        if (r.replayed_verdict, r.replayed_invariant) != (r.recorded_verdict, r.recorded_invariant):
            raise AssertionError("the replay against the stand-in did not show the same violation")
        if standin.snapshot() != r.before:
            raise AssertionError("the replayed run left resources on the stand-in")

        out("== a second run against the stand-in, killed with SIGKILL halfway ==")
        journals = workdir / "journals"
        killed_run(standin, journals, "rehearsalkill", env)
        r.after_kill = standin.snapshot()
        out(f"left behind: zones {r.after_kill[0]}, tables {r.after_kill[1]}")
        if r.after_kill == r.before:
            raise AssertionError("the killed run left nothing: the kill came too late to test")
        cleanup = _cli(
            "cleanup",
            "--target",
            "aws",
            "--allow-real-aws",
            "--all-journals",
            "--yes",
            "--journal-dir",
            str(journals),
            "--endpoint-url",
            standin.url,
        )
        for attempt in (1, 2):
            done_cleanup = subprocess.run(
                cleanup, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
            )
            out(
                f"$ dnschaos cleanup --target aws --all-journals --yes  (#{attempt}, exit "
                f"{done_cleanup.returncode})"
            )
            for line in done_cleanup.stdout.splitlines():
                out(f"  {line}")
            if done_cleanup.returncode != 0:
                raise AssertionError(f"cleanup failed: {done_cleanup.stderr}")
            if attempt == 1:
                r.cleanup_output = done_cleanup.stdout
            else:
                r.second_cleanup_output = done_cleanup.stdout
        r.after_cleanup = standin.snapshot()
        if r.after_cleanup != r.before:
            raise AssertionError(
                f"after cleanup the stand-in holds {r.after_cleanup}, not {r.before}"
            )
        if r.second_cleanup_output.strip() != "nothing to delete":
            raise AssertionError("the second cleanup found something")
        out("stand-in zones and tables are exactly as before; the second cleanup found nothing")
    attacks(workdir / "attacks", r, out)
    return r


def attacks(workdir: Path, r: Rehearsal, out: Callable[[str], None]) -> None:
    """Every attack on the guard and on cleanup: refused, and nothing made or deleted."""
    from .aws_attacks import ATTACKS, attack_servers, check, line, run_attack

    out(
        "== attacks on the guard and on cleanup (each must be refused, with 0 create and 0 "
        "delete calls on every server) =="
    )
    with attack_servers(workdir) as servers:
        out(
            f"servers: the stand-in {servers.at_standin.url}, a fake STS {servers.fake_sts.url} "
            f"answering the allowed account, another account {servers.other.url}, a forging "
            f"proxy {servers.forger.url}"
        )
        failed = []
        for attack in ATTACKS.values():
            outcome = run_attack(attack, servers, workdir / attack.name)
            r.attacks[attack.name] = outcome
            out(line(attack, outcome))
            problems = check(attack, outcome)
            if problems:
                failed.append(f"{attack.name}: {'; '.join(problems)}")
    if failed:
        raise AssertionError("attacks not refused cleanly: " + " | ".join(failed))
    out(f"all {len(ATTACKS)} attacks refused; 0 create calls and 0 delete calls on every server")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="dnschaos-rehearsal-") as tmp:
        try:
            rehearse(Path(tmp))
        except AssertionError as exc:
            print(f"REHEARSAL FAILED: {exc}")
            return 1
    print("REHEARSAL PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
