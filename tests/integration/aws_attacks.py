"""Attacks on the --target aws guard and on cleanup, each against loopback servers that count
what reaches them. The rehearsal (``make aws-rehearsal``) and tests/integration/
test_aws_attacks.py run every one of them.

The servers (:func:`attack_servers`): the stand-in (a moto server with its token), a "fake
STS" (a moto server whose STS answers the allow-listed account), "another account" (the
Route 53 and DynamoDB an override would send the run to), and a forging HTTPS proxy. Each
is reached through a :class:`~.aws_spies.Counting` server, so "0 create calls" is counted
where the calls would land, not inferred. Every attack also sets ``HTTPS_PROXY`` to the
forging proxy: a request that escaped to an AWS host would end on loopback there, counted,
never on AWS.

An attack passes when the command exits 2 with no traceback, its message names the
override or the foreign resource, and no server saw a create or delete call (nor did the
stand-in's or the other account's zones and tables change).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnschaos.adapters.aws.moto_server import moto_server

from .aws_rehearsal import aws_run, environment
from .aws_spies import ALLOWED, Counting, Forging, counting, forging
from .aws_standin import StandIn, stand_in

RUN_ID = "attackrun"  # the run id the hand-written journals claim
OTHER_RUN = "otherrun"
TAG = "dnschaos-run"


@dataclass
class Servers:
    standin: StandIn  # the stand-in itself (for snapshots)
    other_backend: StandIn  # the moto server behind the fake STS and the other account
    at_standin: Counting
    fake_sts: Counting
    other: Counting
    forger: Forging
    work: Path
    recorded: Path = Path()  # a result JSON, for replay
    foreign: dict[str, str] = field(default_factory=dict)  # what the journals name -> zone id

    def spies(self) -> list[Counting | Forging]:
        return [self.at_standin, self.fake_sts, self.other, self.forger]

    def reset(self) -> None:
        for spy in self.spies():
            spy.calls.clear()
        self.forger.tunnels.clear()

    def snapshot(self) -> Any:
        return self.standin.snapshot(), self.other_backend.snapshot()


@contextlib.contextmanager
def attack_servers(work: Path) -> Iterator[Servers]:
    work.mkdir(parents=True, exist_ok=True)
    with (
        stand_in(work) as standin,
        moto_server() as other_url,
        counting("the stand-in", standin.url) as at_standin,
        counting("the fake STS", other_url) as fake_sts,
        counting("the other account", other_url) as other,
        forging(work) as forger,
    ):
        servers = Servers(
            standin,
            StandIn(other_url, work / "no-token"),
            at_standin,
            fake_sts,
            other,
            forger,
            work,
        )
        _plant(servers)
        servers.recorded = _recorded(work)
        servers.reset()
        yield servers


def _tags(r53: Any, zone_id: str, run: str) -> None:
    r53.change_tags_for_resource(
        ResourceType="hostedzone", ResourceId=zone_id, AddTags=[{"Key": TAG, "Value": run}]
    )


def _plant(servers: Servers) -> None:
    """Resources that are not the attack run's, on the stand-in: what the journals name."""
    r53 = servers.standin.client("route53")
    ddb = servers.standin.client("dynamodb")
    zones = {
        "prod.example.com.": None,  # somebody's production zone, untagged
        f"api.{RUN_ID}.example.com.": OTHER_RUN,  # named under the run id, another run's tag
        f"dynamodb.us-east-1.{RUN_ID}.chaos.test.": None,  # named like ours, untagged
        "billing.example.com.": RUN_ID,  # the run's tag, a name outside the run id
    }
    for name, tag in zones.items():
        zone_id = r53.create_hosted_zone(Name=name, CallerReference=f"planted-{name}")
        servers.foreign[name] = zone_id["HostedZone"]["Id"].split("/")[-1]
        if tag is not None:
            _tags(r53, servers.foreign[name], tag)
    tables = {
        "prod-orders": None,
        f"dnschaos-{RUN_ID}-orders": OTHER_RUN,
        f"dnschaos-{RUN_ID}-plans": None,
        "dnschaos-billing": RUN_ID,
    }
    for table, tag in tables.items():
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **({"Tags": [{"Key": TAG, "Value": tag}]} if tag else {}),
        )


def _recorded(work: Path) -> Path:
    from dnschaos.runner import run

    path = work / "recorded.json"
    path.write_text(json.dumps(run("incident-2025", variant="legacy", seed=7).to_json()))
    return path


# ---------------------------------------------------------------- the attacks


@dataclass(frozen=True)
class Setup:
    """One attack's command line and environment (None unsets a variable)."""

    argv: list[str]
    env: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Attack:
    name: str
    route: str  # what it tries, in words
    says: tuple[str, ...]  # what the refusal must name
    setup: Callable[[Servers, Path], Setup]


def _run(servers: Servers, tmp: Path, *extra: str) -> list[str]:
    return aws_run(tmp / "journals", "0.02", *extra)


def _cleanup(servers: Servers, tmp: Path, *how: str) -> list[str]:
    return [
        "cleanup",
        "--target",
        "aws",
        "--allow-real-aws",
        "--journal-dir",
        str(tmp / "journals"),
        *how,
    ]


def _sts_elsewhere(servers: Servers) -> dict[str, str | None]:
    """The fake STS answers the allowed account; Route 53 and DynamoDB are another's."""
    return {
        "AWS_ENDPOINT_URL_STS": servers.fake_sts.url,
        "AWS_ENDPOINT_URL_ROUTE_53": servers.other.url,
        "AWS_ENDPOINT_URL_DYNAMODB": servers.other.url,
    }


def _file(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def _standin_env(servers: Servers) -> dict[str, str | None]:
    return {"DNSCHAOS_AWS_STANDIN": str(servers.standin.token)}


def _with_standin(servers: Servers) -> list[str]:
    return ["--endpoint-url", servers.at_standin.url]


def _journal(tmp: Path, lines: list[Any] | bytes, name: str = RUN_ID) -> Path:
    journals = tmp / "journals"
    journals.mkdir(parents=True, exist_ok=True)
    path = journals / f"{name}.jsonl"
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    else:
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _claims(servers: Servers, zone: str, table: str) -> list[dict[str, Any]]:
    """A journal's lines claiming a zone and a table for the attack run."""
    return [
        {"run": RUN_ID, "op": "start", "kind": "run", "account": ALLOWED},
        {"run": RUN_ID, "op": "created", "kind": "zone", "id": servers.foreign[zone], "name": zone},
        {"run": RUN_ID, "op": "created", "kind": "table", "name": table},
    ]


def _claiming_cleanup(zone: str, table: str) -> Callable[[Servers, Path], Setup]:
    def setup(servers: Servers, tmp: Path) -> Setup:
        _journal(tmp, _claims(servers, zone, table))
        argv = _cleanup(servers, tmp, "--all-journals", "--yes", *_with_standin(servers))
        return Setup(argv, _standin_env(servers))

    return setup


def _corrupt(make: Callable[[Servers, Path, str], Any]) -> Callable[[Servers, Path], Setup]:
    def setup(servers: Servers, tmp: Path) -> Setup:
        (tmp / "journals").mkdir(parents=True, exist_ok=True)
        make(servers, tmp / "journals", RUN_ID)
        argv = _cleanup(servers, tmp, "--all-journals", "--yes", *_with_standin(servers))
        return Setup(argv, _standin_env(servers))

    return setup


def _good_lines(servers: Servers, run_id: str) -> bytes:
    lines = _claims(servers, "prod.example.com.", "prod-orders")
    return "".join(json.dumps({**x, "run": run_id}) + "\n" for x in lines).encode()


def _write(journals: Path, run_id: str, data: bytes) -> None:
    (journals / f"{run_id}.jsonl").write_bytes(data)


# kind -> (what it is, what the report must say, how to make one for a run id in a folder);
# every one of them names prod.example.com. and prod-orders in its readable lines.
CORRUPT: dict[str, tuple[str, tuple[str, ...], Callable[[Servers, Path, str], Any]]] = {
    "not-utf8": (
        "a journal with a line that is not UTF-8",
        (".jsonl line 2: not UTF-8",),
        lambda s, d, r: _write(d, r, _good_lines(s, r).replace(b'"created"', b'"\xff\xfe"', 1)),
    ),
    "directory": (
        "a directory named like a journal",
        (".jsonl: a directory",),
        lambda s, d, r: (d / f"{r}.jsonl").mkdir(),
    ),
    "not-an-object": (
        "a journal line that is JSON but not an object",
        (".jsonl line 4: a JSON array, not an object",),
        lambda s, d, r: _write(d, r, _good_lines(s, r) + b"[1, 2]\n"),
    ),
    "cut-short": (
        "a journal whose last line is cut short",
        (".jsonl line 4: not JSON", "cut short"),
        lambda s, d, r: _write(d, r, _good_lines(s, r) + b'{"run": "' + r.encode() + b'", "op'),
    ),
    "bad-field": (
        "a journal line whose zone id is a path",
        ("line 2: its zone id '../../hostedzone/x' is not a valid one",),
        lambda s, d, r: _write(
            d,
            r,
            _good_lines(s, r).replace(
                s.foreign["prod.example.com."].encode(), b"../../hostedzone/x", 1
            ),
        ),
    ),
    "another-runs-line": (
        "a journal with a line of another run",
        (f"line 1: it names run '{OTHER_RUN}'",),
        lambda s, d, r: _write(
            d, r, _good_lines(s, r).replace(f'"{r}"'.encode(), f'"{OTHER_RUN}"'.encode(), 1)
        ),
    ),
    "fifo": (
        "a FIFO named like a journal (opening it would block)",
        (".jsonl: not a regular file",),
        lambda s, d, r: os.mkfifo(d / f"{r}.jsonl"),
    ),
    "name-not-a-run-id": (
        "a journal whose file name is not a run id",
        ("Prod-1.jsonl: its name is not <run id>.jsonl",),
        lambda s, d, r: _write(d, "Prod-1", _good_lines(s, r)),
    ),
}


GUARD: list[Attack] = [
    Attack(
        "env-sts",
        "AWS_ENDPOINT_URL_STS at a fake STS answering the allowed account, Route 53 and "
        "DynamoDB at another account",
        ("AWS_ENDPOINT_URL_STS",),
        lambda s, t: Setup(_run(s, t), _sts_elsewhere(s)),
    ),
    Attack(
        "env-route53",
        "AWS_ENDPOINT_URL_ROUTE_53 and _DYNAMODB at another account (STS left to the profile)",
        ("AWS_ENDPOINT_URL_ROUTE_53",),
        lambda s, t: Setup(
            _run(s, t),
            {
                "AWS_ENDPOINT_URL_ROUTE_53": s.other.url,
                "AWS_ENDPOINT_URL_DYNAMODB": s.other.url,
                "AWS_CONFIG_FILE": _file(
                    t, "config", f"[default]\nendpoint_url = {s.fake_sts.url}\n"
                ),
            },
        ),
    ),
    Attack(
        "env-dynamodb",
        "AWS_ENDPOINT_URL_DYNAMODB at another account (the rest left to the profile)",
        ("AWS_ENDPOINT_URL_DYNAMODB",),
        lambda s, t: Setup(
            _run(s, t),
            {
                "AWS_ENDPOINT_URL_DYNAMODB": s.other.url,
                "AWS_CONFIG_FILE": _file(
                    t, "config", f"[default]\nendpoint_url = {s.fake_sts.url}\n"
                ),
            },
        ),
    ),
    Attack(
        "env-global",
        "AWS_ENDPOINT_URL: every service at another account whose STS answers the allowed one",
        ("AWS_ENDPOINT_URL=",),
        lambda s, t: Setup(_run(s, t), {"AWS_ENDPOINT_URL": s.other.url}),
    ),
    Attack(
        "profile-endpoint-url",
        "endpoint_url in the AWS_PROFILE profile of AWS_CONFIG_FILE",
        ("endpoint_url = ", "profile 'attack'"),
        lambda s, t: Setup(
            _run(s, t),
            {
                "AWS_PROFILE": "attack",
                "AWS_CONFIG_FILE": _file(
                    t, "config", f"[profile attack]\nendpoint_url = {s.other.url}\n"
                ),
            },
        ),
    ),
    Attack(
        "credentials-file-endpoint-url",
        "endpoint_url in the default profile of the credentials file",
        ("endpoint_url = ", "credentials"),
        lambda s, t: Setup(
            _run(s, t),
            {
                "AWS_SHARED_CREDENTIALS_FILE": _file(
                    t,
                    "credentials",
                    "[default]\naws_access_key_id = AKIADNSCHAOSATTACK1\n"
                    f"aws_secret_access_key = x\nendpoint_url = {s.other.url}\n",
                ),
            },
        ),
    ),
    Attack(
        "services-section",
        "a services section sending sts to the fake STS and route_53, dynamodb elsewhere",
        ("[services evil]", "sts endpoint_url"),
        lambda s, t: Setup(
            _run(s, t),
            {
                "AWS_PROFILE": "attack",
                "AWS_CONFIG_FILE": _file(
                    t,
                    "config",
                    "[profile attack]\nservices = evil\n[services evil]\n"
                    f"sts =\n  endpoint_url = {s.fake_sts.url}\n"
                    f"route_53 =\n  endpoint_url = {s.other.url}\n"
                    f"dynamodb =\n  endpoint_url = {s.other.url}\n",
                ),
            },
        ),
    ),
    Attack(
        "services-section-data-only",
        "a services section for route_53 and dynamodb only (STS by the profile's endpoint_url)",
        ("route_53 endpoint_url",),
        lambda s, t: Setup(
            _run(s, t),
            {
                "AWS_CONFIG_FILE": _file(
                    t,
                    "config",
                    f"[default]\nendpoint_url = {s.fake_sts.url}\nservices = evil\n"
                    f"[services evil]\nroute_53 =\n  endpoint_url = {s.other.url}\n"
                    f"dynamodb =\n  endpoint_url = {s.other.url}\n",
                ),
            },
        ),
    ),
    Attack(
        "set-accounts",
        "the allow-list from --set aws.accounts, STS overridden in the environment",
        ("AWS_ENDPOINT_URL_STS",),
        lambda s, t: Setup(
            _run(s, t, "--set", f'aws.accounts=["{ALLOWED}"]'),
            {**_sts_elsewhere(s), "DNSCHAOS_AWS_ACCOUNTS": None},
        ),
    ),
    Attack(
        "replay",
        "dnschaos replay --target aws, STS overridden in the environment",
        ("AWS_ENDPOINT_URL_STS",),
        lambda s, t: Setup(
            [
                "replay",
                str(s.recorded),
                "--target",
                "aws",
                "--allow-real-aws",
                "--journal-dir",
                str(t / "journals"),
            ],
            _sts_elsewhere(s),
        ),
    ),
    Attack(
        "cleanup",
        "dnschaos cleanup --all-journals --yes, STS overridden in the environment",
        ("AWS_ENDPOINT_URL_STS",),
        lambda s, t: (
            _journal(t, _claims(s, "prod.example.com.", "prod-orders")),
            Setup(_cleanup(s, t, "--all-journals", "--yes"), _sts_elsewhere(s)),
        )[1],
    ),
    Attack(
        "data-path",
        "AWS_DATA_PATH: service models and endpoint rules of the attacker's",
        ("AWS_DATA_PATH",),
        lambda s, t: Setup(_run(s, t), {"AWS_DATA_PATH": str(t)}),
    ),
    Attack(
        "endpoint-url-without-standin",
        "--endpoint-url at another account without the stand-in setting",
        ("only for the test stand-in",),
        lambda s, t: Setup(_run(s, t, "--endpoint-url", s.other.url)),
    ),
    Attack(
        "forged-standin-token",
        "--endpoint-url at the stand-in with a token file the server does not hold",
        ("does not hold the token",),
        lambda s, t: Setup(
            _run(s, t, *_with_standin(s)),
            {"DNSCHAOS_AWS_STANDIN": _token(t)},
        ),
    ),
    Attack(
        "standin-token-for-another-server",
        "the stand-in's own token, --endpoint-url at another account's server",
        ("no stand-in answers there",),
        lambda s, t: Setup(_run(s, t, "--endpoint-url", s.other.url), _standin_env(s)),
    ),
    Attack(
        "standin-with-env-override",
        "the proven stand-in, and AWS_ENDPOINT_URL_STS at the fake STS",
        ("AWS_ENDPOINT_URL_STS",),
        lambda s, t: Setup(
            _run(s, t, *_with_standin(s)),
            {**_standin_env(s), "AWS_ENDPOINT_URL_STS": s.fake_sts.url},
        ),
    ),
    Attack(
        "forging-proxy",
        "HTTPS_PROXY answering for AWS with a certificate authority of its own, named in "
        "AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE and SSL_CERT_FILE",
        ("certificate verify failed",),
        lambda s, t: Setup(
            _run(s, t),
            {
                "AWS_CA_BUNDLE": str(s.forger.ca_file),
                "REQUESTS_CA_BUNDLE": str(s.forger.ca_file),
                "SSL_CERT_FILE": str(s.forger.ca_file),
            },
        ),
    ),
]


def _token(tmp: Path) -> str:
    path = tmp / "forged.token"
    path.write_text("0" * 64)
    path.chmod(0o600)
    return str(path)


CLEANUP: list[Attack] = [
    Attack(
        "journal-names-untagged-foreign",
        "a hand-written journal naming an untagged prod.example.com. zone and prod-orders table",
        ("not ours, left alone: hosted zone", "prod.example.com.", "table prod-orders"),
        _claiming_cleanup("prod.example.com.", "prod-orders"),
    ),
    Attack(
        "journal-names-another-runs",
        "a journal naming a zone and a table under the run id, tagged with another run's id",
        (f"tag is '{OTHER_RUN}'", f"api.{RUN_ID}.example.com.", f"dnschaos-{RUN_ID}-orders"),
        _claiming_cleanup(f"api.{RUN_ID}.example.com.", f"dnschaos-{RUN_ID}-orders"),
    ),
    Attack(
        "journal-names-lookalikes",
        "a journal naming a zone and a table named like the run's, without its tag",
        (f"no {TAG} tag", f"dynamodb.us-east-1.{RUN_ID}.chaos.test.", f"dnschaos-{RUN_ID}-plans"),
        _claiming_cleanup(f"dynamodb.us-east-1.{RUN_ID}.chaos.test.", f"dnschaos-{RUN_ID}-plans"),
    ),
    Attack(
        "tagged-but-named-elsewhere",
        "a zone and a table carrying the run's tag, named outside the run id (found by tag)",
        ("not under the run id", "billing.example.com.", "dnschaos-billing"),
        lambda s, t: Setup(_cleanup(s, t, "--run-id", RUN_ID, *_with_standin(s)), _standin_env(s)),
    ),
    Attack(
        "run-id-path-traversal",
        "--run-id ../outside: a journal outside the journal directory",
        ("--run-id ../outside",),
        lambda s, t: (
            _journal(t, _claims(s, "prod.example.com.", "prod-orders"), "../outside"),
            Setup(_cleanup(s, t, "--run-id", "../outside", *_with_standin(s)), _standin_env(s)),
        )[1],
    ),
    *(
        Attack(f"journal-{kind}", what, ("bad journal", *says), _corrupt(make))
        for kind, (what, says, make) in CORRUPT.items()
    ),
]

ATTACKS: dict[str, Attack] = {a.name: a for a in (*GUARD, *CLEANUP)}


# ---------------------------------------------------------------- running one


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    calls: dict[str, list[str]]  # server -> operations it saw
    changed: bool  # the stand-in's or the other account's zones or tables changed

    def creates(self) -> int:
        from .aws_spies import is_create

        return sum(1 for ops in self.calls.values() for op in ops if is_create(op))

    def deletes(self) -> int:
        from .aws_spies import is_delete

        return sum(1 for ops in self.calls.values() for op in ops if is_delete(op))

    def message(self) -> str:
        text = (self.err + self.out).strip().splitlines()
        refusals = [line for line in text if "error:" in line or "left alone" in line]
        bad = [line for line in text if line.startswith("bad journal")]
        return (refusals or bad or text or [""])[0]


_CLEAN = (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_DATA_PATH",
    "AWS_SESSION_TOKEN",
    "DNSCHAOS_AWS_STANDIN",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


def base_environment(servers: Servers) -> dict[str, str | None]:
    """What every attack starts from: the enablers, the allow-list, keys in the environment
    (what a real run would sign with), no AWS configuration, and the forging proxy as the
    way out for any request that would go to an AWS host."""
    env: dict[str, str | None] = {
        key: None for key in os.environ if key.startswith(_CLEAN) or key in _CLEAN
    }
    env.update(
        {
            "DNSCHAOS_ALLOW_REAL_AWS": "1",
            "DNSCHAOS_AWS_ACCOUNTS": ALLOWED,
            "AWS_ACCESS_KEY_ID": "AKIADNSCHAOSATTACK0",
            "AWS_SECRET_ACCESS_KEY": "the-environment-s-keys",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "HTTPS_PROXY": servers.forger.url,
        }
    )
    return env


def run_attack(attack: Attack, servers: Servers, tmp: Path) -> Outcome:
    """Run ``attack``'s command in this process and count what every server saw."""
    from dnschaos.cli import main

    tmp.mkdir(parents=True, exist_ok=True)
    setup = attack.setup(servers, tmp)
    before = servers.snapshot()
    servers.reset()
    out, err = io.StringIO(), io.StringIO()
    with (
        environment({**base_environment(servers), **setup.env}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(setup.argv)
    calls = {spy_name(spy): list(spy.calls) for spy in servers.spies()}
    return Outcome(code, out.getvalue(), err.getvalue(), calls, servers.snapshot() != before)


def spy_name(spy: Counting | Forging) -> str:
    return spy.name if isinstance(spy, Counting) else "the forging proxy"


def check(attack: Attack, outcome: Outcome) -> list[str]:
    """What is wrong with an attack's outcome (nothing: it was refused, and nothing made)."""
    problems = []
    if outcome.code != 2:
        problems.append(f"exit {outcome.code}, not 2")
    if "Traceback" in outcome.err:
        problems.append("a traceback")
    text = outcome.err + outcome.out
    problems += [f"the message does not name {s!r}" for s in attack.says if s not in text]
    if outcome.creates() or outcome.deletes():
        problems.append(f"calls made: {outcome.calls}")
    if outcome.changed:
        problems.append("zones or tables changed")
    return problems


def line(attack: Attack, outcome: Outcome) -> str:
    """The rehearsal's line for one attack."""
    refused = "refused" if outcome.code == 2 else f"NOT refused (exit {outcome.code})"
    return (
        f"attack {attack.name}: {refused}; {outcome.creates()} create calls, "
        f"{outcome.deletes()} delete calls on {len(outcome.calls)} servers -- "
        f"{outcome.message()[:200]}"
    )
