"""The guarded real-AWS target: account guard, journal, tags, budget and cleanup.

A run against a real account must never touch the wrong account, must never
leave anything behind, and must never run away with calls or time:

* **Guard.** Two enablers (``--allow-real-aws`` and ``DNSCHAOS_ALLOW_REAL_AWS=1``,
  checked by :class:`~dnschaos.adapters.aws.target.TargetSpec`), then STS
  GetCallerIdentity before anything is created: the account must be on the
  allow-list (the scenario's ``[aws] accounts`` or ``DNSCHAOS_AWS_ACCOUNTS``),
  else :class:`RealAwsRefusedError` (exit 2) names the account found.
* **Journal.** Every run has a unique id; every zone and table it creates is
  named under it and tagged ``dnschaos-run=<id>``; before each create call an
  entry is appended to ``<journal dir>/<id>.jsonl`` and fsync'd, so a run killed
  with SIGKILL still says what it may have made. A live run holds a lock on its
  journal; :func:`cleanup` skips journals that are locked.
* **Cleanup.** At the end of a run (violation and error included) and from
  ``dnschaos cleanup``: zones emptied and deleted, tables deleted, found from the
  journal and by tag.
* **Budget.** API calls, zones, record changes and wall time per run; the call
  that would exceed it raises :class:`BudgetExhausted` and the run ends unknown.
* **Real time.** Every change batch is followed with GetChange until INSYNC
  (:class:`ChangeWatch`); throttling answers are retried by botocore's own
  standard retry mode and counted.

The rehearsal stand-in (:func:`standin_verified`): a loopback moto server that
the project's launcher started with a secret token may stand in for AWS, for
tests only. It needs three things at once: an ``--endpoint-url`` on loopback,
``DNSCHAOS_AWS_STANDIN`` naming the token file the launcher wrote (mode 0600,
owned by the user), and the server proving it holds that token. The stand-in
session uses moto's fake credentials; real credentials are never read for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlparse

import boto3

from dnschaos.errors import HarnessError, RealAwsRefusedError, UsageError

ACCOUNTS_ENV: Final = "DNSCHAOS_AWS_ACCOUNTS"
STANDIN_ENV: Final = "DNSCHAOS_AWS_STANDIN"
STANDIN_PATH: Final = "/dnschaos/standin"
TAG_KEY: Final = "dnschaos-run"
PLANS_TABLE: Final = "dnschaos-plans"
# Operations whose effect must be undone: a journal entry is written before each.
ZONE_CREATE: Final = "CreateHostedZone"
TABLE_CREATE: Final = "CreateTable"
RECORD_CHANGE: Final = "ChangeResourceRecordSets"
ITEM_WRITES: Final = frozenset({"PutItem", "UpdateItem", "BatchWriteItem"})
THROTTLE_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "PriorRequestNotComplete",
        "ProvisionedThroughputExceededException",
        "TooManyRequestsException",
        "RequestThrottled",
    }
)


MAX_PROBES: Final = 500  # DNS queries per run at most (each change is probed once)


class BudgetExhausted(HarnessError):
    """A run reached one of its budget's bounds; it ends without a verdict."""


def default_journal_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "dnschaos"


@dataclass(frozen=True)
class Budget:
    """What one run may spend at most."""

    api_calls: int = 5000
    zones: int = 10
    records: int = 2000  # record sets created, upserted or deleted
    wall_seconds: float = 1800.0

    def validate(self) -> None:
        for name in ("api_calls", "zones", "records", "wall_seconds"):
            if getattr(self, name) <= 0:
                raise UsageError(f"--budget-{name.replace('_', '-')}: must be greater than 0")


@dataclass(frozen=True)
class RealAwsOptions:
    """Settings of one run against a real account (or the rehearsal stand-in)."""

    run_id: str = ""  # empty: a fresh one (new_run_id)
    journal_dir: str | None = None  # None: default_journal_dir()
    accounts: tuple[str, ...] = ()  # the scenario's [aws] accounts; the environment's are added
    budget: Budget = field(default_factory=Budget)
    probe_server: str | None = None  # HOST:PORT to ask instead of the delegation set
    settle_seconds: float = 60.0  # at the end, how long changes still PENDING are followed
    # (zone id, zone name) -> the (address, port) of name servers to probe; None: the
    # zone's own delegation set. The rehearsal points it at the embedded responder.
    probe_servers: Callable[[str, str], list[tuple[str, int]]] | None = None

    def journal_path(self) -> Path:
        return Path(self.journal_dir) if self.journal_dir else default_journal_dir()


def new_run_id() -> str:
    """Unique, sortable, and valid as a DNS label and in a table name."""
    return "dc" + time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(3)


def scoped_name(name: str, run_id: str) -> str:
    """An endpoint's DNS name under the run: the run id becomes the label before the last two."""
    labels = name.rstrip(".").split(".")
    cut = max(1, len(labels) - 2)
    return ".".join([*labels[:cut], run_id, *labels[cut:]])


def plans_table(run_id: str | None) -> str:
    return f"dnschaos-{run_id}-plans" if run_id else PLANS_TABLE


def allowed_accounts(scenario_accounts: tuple[str, ...]) -> tuple[str, ...]:
    from_env = [a.strip() for a in os.environ.get(ACCOUNTS_ENV, "").split(",") if a.strip()]
    accounts = tuple(dict.fromkeys([*scenario_accounts, *from_env]))
    for account in accounts:
        if not (len(account) == 12 and account.isdigit()):
            raise UsageError(
                f"AWS account {account!r} (from [aws] accounts or {ACCOUNTS_ENV}): "
                "an account id is 12 digits"
            )
    return accounts


# ---------------------------------------------------------------- the stand-in


def standin_digest(token: str) -> str:
    return hashlib.sha256(f"dnschaos-standin:{token}".encode()).hexdigest()


def write_standin_token(path: str | Path) -> str:
    """The launcher's half: a fresh secret, readable by this user only."""
    token = secrets.token_hex(32)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def standin_verified(endpoint_url: str) -> bool:
    """True when ``endpoint_url`` is the project's own moto server standing in for AWS.

    Raises UsageError when the stand-in is asked for (the environment variable is
    set) but one of its conditions fails, so a half-configured rehearsal says why.
    """
    token_file = os.environ.get(STANDIN_ENV)
    if not token_file:
        return False
    host = urlparse(endpoint_url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise UsageError(
            f"--endpoint-url {endpoint_url}: the AWS stand-in listens on loopback only"
        )
    path = Path(token_file)
    try:
        st = path.stat()
        token = path.read_text().strip()
    except OSError as exc:
        raise UsageError(
            f"{STANDIN_ENV}={token_file}: cannot read the token file ({exc})"
        ) from None
    if st.st_mode & 0o077 or st.st_uid != os.getuid():
        raise UsageError(f"{STANDIN_ENV}={token_file}: the token file must be yours with mode 0600")
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(endpoint_url.rstrip("/") + STANDIN_PATH, timeout=5) as resp:
            answer = resp.read().decode().strip()
    except OSError as exc:
        raise UsageError(
            f"--endpoint-url {endpoint_url}: no stand-in answers there ({exc})"
        ) from None
    if not secrets.compare_digest(answer, standin_digest(token)):
        raise UsageError(
            f"--endpoint-url {endpoint_url}: the server there does not hold the token in "
            f"{token_file}; start the stand-in with 'python -m dnschaos.adapters.aws.moto_server "
            "--standin-token FILE'"
        )
    return True


Hermetic = Callable[[str], boto3.session.Session]


def make_session(
    region: str, endpoint_url: str | None, hermetic: Hermetic
) -> boto3.session.Session:
    """Real AWS: the standard credential chain. The stand-in: ``hermetic(region)``, the moto
    targets' session (moto's fake credentials, no AWS configuration read)."""
    if endpoint_url is None:
        return boto3.session.Session(region_name=region)
    if not standin_verified(endpoint_url):
        raise UsageError(
            f"--endpoint-url {endpoint_url}: --target aws talks to AWS's own endpoints; "
            "an endpoint URL is accepted only for the test stand-in"
        )
    return hermetic(region)


def require_accounts(scenario_accounts: tuple[str, ...]) -> tuple[str, ...]:
    accounts = allowed_accounts(scenario_accounts)
    if not accounts:
        raise RealAwsRefusedError(
            "--target aws: no account allow-list; list the sandbox account in the scenario's "
            f'[aws] accounts = ["123456789012"] or in {ACCOUNTS_ENV}=123456789012'
        )
    return accounts


def check_account(
    session: boto3.session.Session, accounts: tuple[str, ...], **client_kw: Any
) -> str:
    """STS GetCallerIdentity, before anything is created: the account must be allowed."""
    try:
        found = str(session.client("sts", **client_kw).get_caller_identity()["Account"])
    except Exception as exc:
        raise RealAwsRefusedError(
            f"--target aws: STS GetCallerIdentity failed, so the account is unknown: {exc}"
        ) from None
    if found not in accounts:
        raise RealAwsRefusedError(
            f"--target aws: the credentials belong to account {found}, which is not on the "
            f"allow-list ({', '.join(accounts)}); refusing before creating anything"
        )
    return found


# ---------------------------------------------------------------- journal


class Journal:
    """One run's append-only record of what it may have created; one JSON line per entry."""

    def __init__(self, directory: Path, run_id: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id
        self.path = directory / f"{run_id}.jsonl"
        self._fd = os.open(str(self.path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # Held while the run lives; released by the kernel if the process is killed.
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._lock = threading.Lock()
        self._dir_synced = False

    def write(self, op: str, kind: str, **fields: Any) -> None:
        line = json.dumps(
            {"run": self.run_id, "t": round(time.time(), 3), "op": op, "kind": kind, **fields},
            sort_keys=True,
        )
        with self._lock:
            # One write on an O_APPEND descriptor: a line is whole or absent.
            os.write(self._fd, (line + "\n").encode())
            os.fsync(self._fd)
            if not self._dir_synced:  # the file's name must survive a crash too
                dfd = os.open(str(self.path.parent), os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
                self._dir_synced = True

    def close(self) -> None:
        os.close(self._fd)


def read_journal(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line of a killed run: its create never started
    return out


def _locked(path: Path) -> bool:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# ---------------------------------------------------------------- a live run


@dataclass
class ChangeWatch:
    """One change batch followed from PENDING to INSYNC through GetChange."""

    change: str
    submitted: float
    first_status: str
    polls: int = 0
    insync_after: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "first_status": self.first_status,
            "polls": self.polls,
            "insync_after_s": None if self.insync_after is None else round(self.insync_after, 3),
        }


class RealRun:
    """The journal, budget, tags and change watch of one run, wired into a boto3 session."""

    def __init__(
        self,
        session: boto3.session.Session,
        options: RealAwsOptions,
        run_id: str,
        account: str,
        client_kw: dict[str, Any],
    ) -> None:
        self.session = session
        self.options = options
        self.run_id = run_id
        self.account = account
        self.client_kw = client_kw
        self.journal = Journal(options.journal_path(), run_id)
        self.started = time.monotonic()
        self.calls = 0
        self.zones = 0
        self.records = 0
        self.exhausted: str | None = None
        self.throttled: list[dict[str, Any]] = []
        self.operations: set[str] = set()  # every "service:Operation" called
        self.changes: list[ChangeWatch] = []
        self.deleted: list[str] = []
        self.zone_names: dict[str, str] = {}
        self.probes: list[dict[str, Any]] = []
        self.probe_skipped: str | None = None
        self._lock = threading.Lock()
        self._accounting = True
        self._watchers: list[threading.Thread] = []
        self._stop = threading.Event()
        self.journal.write("start", "run", account=account, region=session.region_name)
        events = session.events
        events.register("before-call", self._before_call, unique_id="dnschaos-real-before")
        events.register("after-call", self._after_call, unique_id="dnschaos-real-after")
        events.register("needs-retry", self._needs_retry, unique_id="dnschaos-real-retry")
        events.register(
            "before-parameter-build.dynamodb.CreateTable",
            self._tag_table,
            unique_id="dnschaos-real-tag-table",
        )

    def client(self, service: str) -> Any:
        """A harness client (cleanup, tags, GetChange): not an actor's, never instrumented."""
        return self.session.client(service, **self.client_kw)  # type: ignore[call-overload]

    # botocore handlers ----------------------------------------------------

    def _tag_table(self, params: dict[str, Any], **_: Any) -> None:
        tags = [t for t in params.get("Tags", []) if t.get("Key") != TAG_KEY]
        params["Tags"] = [*tags, {"Key": TAG_KEY, "Value": self.run_id}]

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        op = model.name
        service = model.service_model.endpoint_prefix
        body = params.get("body")
        with self._lock:
            self.operations.add(f"{service}:{op}")  # the IAM action's name too
            if not self._accounting:
                return
            self._spend(op, body)
        # Written before the request leaves: a killed run's journal names what may exist.
        if op == ZONE_CREATE:
            name, ref = _zone_request(body)
            self.journal.write("intent", "zone", name=name, caller_reference=ref)
        elif op == TABLE_CREATE:
            self.journal.write("intent", "table", name=_json_body(body).get("TableName"))
        elif op == RECORD_CHANGE:
            zone = str(params.get("url_path", "")).split("/hostedzone/")[-1].split("/")[0]
            params.get("context", {})["dnschaos_zone"] = zone
            self.journal.write("intent", "records", zone=zone)
        elif op in ITEM_WRITES:
            self.journal.write("intent", "item", table=_json_body(body).get("TableName"))

    def _spend(self, op: str, body: Any) -> None:
        b = self.options.budget
        self.calls += 1
        if op == ZONE_CREATE:
            self.zones += 1
        if op == RECORD_CHANGE:
            self.records += _change_count(body)
        elapsed = time.monotonic() - self.started
        over = (
            f"{self.calls} API calls > budget {b.api_calls}"
            if self.calls > b.api_calls
            else f"{self.zones} hosted zones > budget {b.zones}"
            if self.zones > b.zones
            else f"{self.records} record changes > budget {b.records}"
            if self.records > b.records
            else f"{elapsed:.0f}s of wall time > budget {b.wall_seconds:g}s"
            if elapsed > b.wall_seconds
            else None
        )
        if over is not None:
            if self.exhausted is None:
                self.exhausted = f"budget reached: {over}"
            raise BudgetExhausted(self.exhausted)

    def _after_call(
        self,
        http_response: Any,
        parsed: dict[str, Any],
        model: Any,
        context: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        status = getattr(http_response, "status_code", 0)
        if status >= 300:
            return
        op = model.name
        if op == ZONE_CREATE:
            zone_id = str(parsed["HostedZone"]["Id"]).split("/")[-1]
            self.zone_names[zone_id] = str(parsed["HostedZone"]["Name"])
            self.journal.write("created", "zone", id=zone_id, name=parsed["HostedZone"]["Name"])
            self.client("route53").change_tags_for_resource(
                ResourceType="hostedzone",
                ResourceId=zone_id,
                AddTags=[{"Key": TAG_KEY, "Value": self.run_id}],
            )
        elif op == TABLE_CREATE:
            desc = parsed.get("TableDescription", {})
            self.journal.write(
                "created", "table", name=desc.get("TableName"), arn=desc.get("TableArn")
            )
        elif op == RECORD_CHANGE and self._accounting:  # not cleanup's own deletions
            info = parsed.get("ChangeInfo", {})
            zone = (context or {}).get("dnschaos_zone", "")
            self._watch(str(info.get("Id", "")), str(info.get("Status", "")), str(zone))

    def _needs_retry(
        self, response: Any = None, attempts: int = 0, operation: Any = None, **_: Any
    ) -> None:
        if not response:
            return
        code = (response[1] or {}).get("Error", {}).get("Code")
        if code in THROTTLE_CODES:
            with self._lock:
                self.throttled.append(
                    {"op": getattr(operation, "name", "?"), "code": code, "attempt": attempts}
                )

    # GetChange -----------------------------------------------------------

    def _watch(self, change_id: str, status: str, zone: str) -> None:
        watch = ChangeWatch(change_id.split("/")[-1], time.monotonic(), status)
        with self._lock:
            self.changes.append(watch)
        thread = threading.Thread(target=self._follow, args=(watch, zone), daemon=True)
        self._watchers.append(thread)
        thread.start()

    def _follow(self, watch: ChangeWatch, zone: str) -> None:
        r53 = self.client("route53")
        delay = 0.5
        status = watch.first_status
        while status != "INSYNC" and not self._stop.is_set():
            self._stop.wait(delay)
            delay = min(delay * 2, 10.0)
            try:
                status = r53.get_change(Id=watch.change)["ChangeInfo"]["Status"]
            except Exception:
                return  # a budget stop or the run ending; the watch stays open
            watch.polls += 1
        if status == "INSYNC":
            watch.insync_after = time.monotonic() - watch.submitted
            if zone and not self._stop.is_set():
                self._probe(zone, watch)

    # DNS probes ------------------------------------------------------------

    def _probe_targets(self, zone: str, name: str) -> list[tuple[str, int]]:
        if self.options.probe_servers is not None:
            return self.options.probe_servers(zone, name)
        if self.options.probe_server:
            host, _, port = self.options.probe_server.rpartition(":")
            return [(host, int(port))]
        if self.client_kw.get("endpoint_url"):
            raise LookupError(
                "the stand-in is a moto server and serves no DNS, and its delegation set "
                "names AWS's servers, which do not host this zone; give --probe-server"
            )
        import dns.resolver

        ns = self.client("route53").get_hosted_zone(Id=zone)["DelegationSet"]["NameServers"]
        out = []
        for host in ns[:2]:  # two of the four: enough to see propagation, half the queries
            address = dns.resolver.resolve(host, "A")[0].to_text()
            out.append((address, 53))
        return out

    def _probe(self, zone: str, watch: ChangeWatch) -> None:
        """Ask the zone's name servers for its apex once the change is INSYNC."""
        import dns.exception
        import dns.message
        import dns.query
        import dns.rcode

        name = self.zone_names.get(zone)
        if name is None or len(self.probes) >= MAX_PROBES:
            return
        try:
            servers = self._probe_targets(zone, name)
        except Exception as exc:
            self.probe_skipped = f"DNS probes skipped: {exc}"
            return
        for host, port in servers:
            entry: dict[str, Any] = {
                "change": watch.change,
                "name": name,
                "server": f"{host}:{port}",
            }
            try:
                reply = dns.query.udp(dns.message.make_query(name, "A"), host, port=port, timeout=2)
                entry["rcode"] = dns.rcode.to_text(reply.rcode())
                entry["answers"] = sorted(r.to_text() for rrset in reply.answer for r in rrset)
            except (dns.exception.DNSException, OSError) as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.probes.append(entry)

    # the end ---------------------------------------------------------------

    def finish(self) -> CleanupReport:
        """Stop following changes, delete everything the run made, close the journal."""
        # Changes made just before the end are still followed to INSYNC (and probed), a while.
        deadline = time.monotonic() + self.options.settle_seconds
        for thread in self._watchers:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._stop.set()
        for thread in self._watchers:
            thread.join(timeout=5)
        with self._lock:
            self._accounting = False  # cleanup is never cut short by the budget
        try:
            report = clean_run(self.journal.path, self.run_id, self._clients(), by_tag=True)
            self.deleted = report.deleted
            return report
        finally:
            self.journal.close()

    def _clients(self) -> CleanupClients:
        return CleanupClients(self.client("route53"), self.client("dynamodb"))

    def summary(self) -> dict[str, Any]:
        """What the result records about the account side of the run."""
        return {
            "run_id": self.run_id,
            "account": self.account,
            "region": self.session.region_name,
            "journal": str(self.journal.path),
            "budget": {
                "api_calls": self.calls,
                "zones": self.zones,
                "records": self.records,
                "wall_seconds": round(time.monotonic() - self.started, 3),
                "limits": vars(self.options.budget),
                "exhausted": self.exhausted,
            },
            "throttled": list(self.throttled),
            "changes": [c.as_dict() for c in self.changes],
            "probes": list(self.probes),
            "probes_skipped": self.probe_skipped,
            "operations": sorted({"sts:GetCallerIdentity", *self.operations}),
        }


def _json_body(body: Any) -> dict[str, Any]:
    if isinstance(body, (bytes, str)) and body:
        try:
            data = json.loads(body)
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {}
    return body if isinstance(body, dict) else {}


def _xml_text(body: Any, tag: str) -> list[str]:
    import re

    text = body.decode() if isinstance(body, bytes) else str(body or "")
    return re.findall(rf"<{tag}>([^<]*)</{tag}>", text)


def _zone_request(body: Any) -> tuple[str | None, str | None]:
    names, refs = _xml_text(body, "Name"), _xml_text(body, "CallerReference")
    return (names[0] if names else None), (refs[0] if refs else None)


def _change_count(body: Any) -> int:
    return max(1, len(_xml_text(body, "Action")))


# ---------------------------------------------------------------- cleanup


@dataclass
class CleanupClients:
    route53: Any
    dynamodb: Any


@dataclass
class CleanupReport:
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # journals of live runs
    errors: list[str] = field(default_factory=list)

    def merge(self, other: CleanupReport) -> None:
        self.deleted += other.deleted
        self.skipped += other.skipped
        self.errors += other.errors


def clean_run(
    journal: Path | None, run_id: str, clients: CleanupClients, *, by_tag: bool
) -> CleanupReport:
    """Delete what run ``run_id`` created: from its journal, then whatever carries its tag."""
    report = CleanupReport()
    zones: dict[str, str] = {}  # id -> name
    tables: set[str] = set()
    intents: list[tuple[str | None, str | None]] = []
    if journal is not None and journal.exists():
        for entry in read_journal(journal):
            if entry.get("kind") == "zone" and entry.get("op") == "created":
                zones[str(entry["id"])] = str(entry.get("name"))
            elif entry.get("kind") == "zone" and entry.get("op") == "intent":
                intents.append((entry.get("name"), entry.get("caller_reference")))
            elif entry.get("kind") == "table" and entry.get("name"):
                tables.add(str(entry["name"]))
    r53, ddb = clients.route53, clients.dynamodb
    # A zone whose create was journaled but whose answer never came: found by reference.
    for name, ref in intents:
        if not name:
            continue
        for zone in r53.list_hosted_zones_by_name(DNSName=name).get("HostedZones", []):
            if zone["Name"] == name and zone.get("CallerReference") == ref:
                zones.setdefault(zone["Id"].split("/")[-1], name)
    if by_tag:
        zones.update(_tagged_zones(r53, {run_id}))
        tables.update(_tagged_tables(ddb, {run_id}))
    for zone_id, name in sorted(zones.items()):
        try:
            _delete_zone(r53, zone_id)
            report.deleted.append(f"hosted zone {zone_id} ({name})")
        except r53.exceptions.NoSuchHostedZone:
            pass
        except Exception as exc:
            report.errors.append(f"hosted zone {zone_id} ({name}): {exc}")
    for table in sorted(tables):
        try:
            ddb.delete_table(TableName=table)
            report.deleted.append(f"table {table}")
        except ddb.exceptions.ResourceNotFoundException:
            pass
        except Exception as exc:
            report.errors.append(f"table {table}: {exc}")
    if journal is not None and journal.exists() and not report.errors:
        done = journal.parent / "done"
        done.mkdir(exist_ok=True)
        journal.rename(done / journal.name)  # cleaned: later cleanups pass it by
    return report


def _delete_zone(r53: Any, zone_id: str) -> None:
    zone = r53.get_hosted_zone(Id=zone_id)["HostedZone"]
    apex = zone["Name"]
    changes = []
    for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
        for rr in page["ResourceRecordSets"]:
            if rr["Name"] == apex and rr["Type"] in ("SOA", "NS"):
                continue
            changes.append({"Action": "DELETE", "ResourceRecordSet": rr})
    for i in range(0, len(changes), 500):
        r53.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": changes[i : i + 500]}
        )
    r53.delete_hosted_zone(Id=zone_id)


def _tagged_zones(r53: Any, run_ids: set[str] | None) -> dict[str, str]:
    out = {}
    for page in r53.get_paginator("list_hosted_zones").paginate():
        for zone in page["HostedZones"]:
            zone_id = zone["Id"].split("/")[-1]
            tags = r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
            for tag in tags.get("ResourceTagSet", {}).get("Tags", []):
                if tag["Key"] == TAG_KEY and (run_ids is None or tag["Value"] in run_ids):
                    out[zone_id] = zone["Name"]
    return out


def _tagged_tables(ddb: Any, run_ids: set[str] | None) -> set[str]:
    out = set()
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            if not name.startswith("dnschaos-"):
                continue  # only ours can carry the tag: fewer calls in a busy account
            arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
            for tag in ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []):
                if tag["Key"] == TAG_KEY and (run_ids is None or tag["Value"] in run_ids):
                    out.add(name)
    return out


def cleanup(
    clients: CleanupClients, journal_dir: Path, *, run_id: str | None, all_journals: bool
) -> CleanupReport:
    """``dnschaos cleanup``: one run's leftovers, or those of every journal in ``journal_dir``."""
    report = CleanupReport()
    if run_id is not None:
        path = journal_dir / f"{run_id}.jsonl"
        if path.exists() and _locked(path):
            report.skipped.append(f"run {run_id}: still running (its journal is locked)")
            return report
        report.merge(clean_run(path if path.exists() else None, run_id, clients, by_tag=True))
        return report
    assert all_journals
    paths = sorted(journal_dir.glob("*.jsonl")) if journal_dir.is_dir() else []
    for path in paths:
        rid = path.stem
        if _locked(path):
            report.skipped.append(f"run {rid}: still running (its journal is locked)")
            continue
        report.merge(clean_run(path, rid, clients, by_tag=True))
    return report


# ---------------------------------------------------------------- opening


@dataclass
class Opened:
    """What :func:`open_real` hands to the runner beside the target."""

    run: RealRun
    report: CleanupReport | None = None


_OPEN: dict[int, Opened] = {}


def opened(target: Any) -> Opened | None:
    """The real-AWS side of an opened target, if it has one."""
    return _OPEN.get(id(target))


@contextmanager
def open_real(
    spec: Any, make_target: Callable[[Any, boto3.session.Session], Any], hermetic: Hermetic
) -> Iterator[Any]:
    """Guard, journal and clean up one run on ``spec`` (a TargetSpec of kind ``aws``)."""
    options: RealAwsOptions = spec.real or RealAwsOptions()
    options.budget.validate()
    accounts = require_accounts(options.accounts)  # before any credential is looked at
    session = make_session(spec.region, spec.endpoint_url, hermetic)
    client_kw: dict[str, Any] = {}
    if spec.endpoint_url:
        client_kw["endpoint_url"] = spec.endpoint_url
    account = check_account(session, accounts, **client_kw)
    try:
        run = RealRun(session, options, options.run_id or new_run_id(), account, client_kw)
    except BlockingIOError:
        raise UsageError(
            f"--run-id {options.run_id}: a run with this id is running now; choose another"
        ) from None
    except OSError as exc:
        raise UsageError(
            f"--journal-dir {options.journal_path()}: cannot write the run's journal there "
            f"({exc.strerror or exc}); give a writable directory"
        ) from None
    state = Opened(run)
    key = -1  # nothing registered yet
    try:
        target = make_target(spec, session)
        key = id(target)
        _OPEN[key] = state
        yield target
    finally:
        _OPEN.pop(key, None)
        state.report = run.finish()


def cleanup_clients(
    region: str, endpoint_url: str | None, accounts: tuple[str, ...], hermetic: Hermetic
) -> CleanupClients:
    """Clients for ``dnschaos cleanup``: the same guard as a run (enablers checked by the caller)."""
    checked = require_accounts(accounts)
    session = make_session(region, endpoint_url, hermetic)
    kw: dict[str, Any] = {"endpoint_url": endpoint_url} if endpoint_url else {}
    check_account(session, checked, **kw)
    return CleanupClients(session.client("route53", **kw), session.client("dynamodb", **kw))


# ---------------------------------------------------------------- the runner's side


def scope_run(target: Any, scenario: Any, spec: Any) -> tuple[Any, Any]:
    """The run's id fixed, its allow-list completed and its zones named under the id."""
    from dataclasses import replace

    if spec.clock != "real":
        raise UsageError(
            "--target aws runs on the wall clock: add --clock real (a real account has no "
            "virtual time); --time-scale shortens the scenario's own waits, never AWS's"
        )
    if scenario.world.described:
        raise UsageError(
            "--target aws: runs of your own [actors] are not supported on a real account yet; "
            "rehearse them with --target moto-server"
        )
    if scenario.dns is not None:
        raise UsageError(
            "--target aws: a scenario's [dns] side serves zones from local servers; on a real "
            "account the zone's own name servers are probed instead: drop [dns] (or --dns none)"
        )
    options: RealAwsOptions = target.real or RealAwsOptions()
    run_id = options.run_id or new_run_id()
    options = replace(options, run_id=run_id, accounts=(*options.accounts, *scenario.aws_accounts))
    # Every name a workload makes in the account lies under the run id: cleanup can prove
    # what is the run's own.
    faults = scenario.faults
    parts = []
    for part in scenario.workloads:
        config, faults = part.workload.scoped(
            part.config, faults, lambda name: scoped_name(name, run_id)
        )
        parts.append(replace(part, config=config))
    return replace(target, real=options), replace(scenario, workloads=tuple(parts), faults=faults)


def judged_real(result: Any, state: Opened) -> None:
    """The account side into the result; a budget stop makes the verdict unknown."""
    summary = state.run.summary()
    report = state.report or CleanupReport()
    summary["cleanup"] = {"deleted": report.deleted, "errors": report.errors}
    result.aws = summary
    if state.run.exhausted is not None:
        # A violation seen before the budget ran out stands; anything else proves nothing.
        if result.verdict != "fail":
            result.verdict = "unknown"
        result.reason = state.run.exhausted
    if report.errors:
        result.reason = (
            f"{result.reason}; cleanup left resources behind ({'; '.join(report.errors)}): "
            f"run 'dnschaos cleanup --target aws --run-id {state.run.run_id}'"
        )
