"""The guarded real-AWS target: account guard, journal, tags, budget and cleanup.

A run against a real account must never touch the wrong account, must never
leave anything behind, and must never run away with calls or time:

* **Guard.** Two enablers (``--allow-real-aws`` and ``DNSCHAOS_ALLOW_REAL_AWS=1``,
  checked by :class:`~dnschaos.adapters.aws.TargetSpec`), an allow-list, then one
  session for the check and the run (:mod:`dnschaos.adapters.aws.endpoints`:
  endpoint overrides refused, endpoints pinned to AWS's own and checked on every
  request), then STS GetCallerIdentity through it before anything is created: the
  account must be on the allow-list (the scenario's ``[aws] accounts`` or
  ``DNSCHAOS_AWS_ACCOUNTS``), else :class:`RealAwsRefusedError` (exit 2) names the
  account found.
* **Journal.** Every run has a unique id; every zone and table it creates is
  named under it and tagged ``dnschaos-run=<id>``; before each create call an
  entry is appended to ``<journal dir>/<id>.jsonl`` and fsync'd, so a run killed
  with SIGKILL still says what it may have made. A live run holds a lock on its
  journal; :func:`cleanup` skips journals that are locked.
* **Cleanup.** At the end of a run (violation and error included) and from
  ``dnschaos cleanup``: zones emptied and deleted, tables deleted, found from the
  journal and by tag, and each deleted only when the account shows it carries the
  run's tag and a name under the run id; anything else is left alone and listed.
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
import re
import secrets
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlparse

import boto3
import botocore.session

from dnschaos.adapters.aws.endpoints import Guarded, guarded_session, refuse_overrides
from dnschaos.errors import HarnessError, RealAwsRefusedError, UsageError
from dnschaos.inputs import InputError, check_plain

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


def make_session(region: str, endpoint_url: str | None, hermetic: Hermetic) -> Guarded:
    """The one session of a run or a cleanup (:mod:`dnschaos.adapters.aws.endpoints`).

    Real AWS: the standard credential chain, with every endpoint override refused and the
    endpoints pinned to AWS's own. The stand-in: ``hermetic(region)``, the moto targets'
    session (moto's fake credentials, no AWS configuration read), at the proven URL.
    Settings that would move an endpoint are refused in both cases, before anything else.
    """
    core = botocore.session.Session()
    refuse_overrides(core)
    if endpoint_url is not None and not standin_verified(endpoint_url):
        raise UsageError(
            f"--endpoint-url {endpoint_url}: --target aws talks to AWS's own endpoints; "
            "an endpoint URL is accepted only for the test stand-in"
        )
    return guarded_session(core, region, endpoint_url, hermetic)


def require_accounts(scenario_accounts: tuple[str, ...]) -> tuple[str, ...]:
    accounts = allowed_accounts(scenario_accounts)
    if not accounts:
        raise RealAwsRefusedError(
            "--target aws: no account allow-list; list the sandbox account in the scenario's "
            f'[aws] accounts = ["123456789012"] or in {ACCOUNTS_ENV}=123456789012'
        )
    return accounts


def check_account(guarded: Guarded, accounts: tuple[str, ...]) -> str:
    """STS GetCallerIdentity, before anything is created, through the session and endpoint
    that will carry the run: the account must be allowed."""
    try:
        found = str(guarded.client("sts").get_caller_identity()["Account"])
    except Exception as exc:
        hint = ""
        if guarded.ignored and "certificate" in str(exc).lower():
            hint = f" (not used: {'; '.join(guarded.ignored)})"
        raise RealAwsRefusedError(
            f"--target aws: STS GetCallerIdentity at {guarded.endpoints.get('sts')} failed, "
            f"so the account is unknown: {exc}{hint}"
        ) from None
    if found not in accounts:
        raise RealAwsRefusedError(
            f"--target aws: the credentials belong to account {found} (STS at "
            f"{guarded.endpoints.get('sts')}), which is not on the allow-list "
            f"({', '.join(accounts)}); refusing before creating anything"
        )
    guarded.account = found
    return found


RUN_ID = re.compile(r"[a-z0-9]{1,63}")


def check_run_id(run_id: str, flag: str = "--run-id") -> str:
    """A run id names the journal file, a DNS label and part of a table name."""
    if not RUN_ID.fullmatch(run_id):
        raise UsageError(
            f"{flag} {run_id}: lowercase letters and digits only, 1 to 63 of them (it becomes "
            "a DNS label and the journal's file name)"
        )
    return run_id


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


class BadJournal(UsageError):
    """A journal that cannot be read as one: named with its file, line and why."""

    def __init__(self, path: Path, line: int | None, why: str) -> None:
        super().__init__(f"journal {path}{f' line {line}' if line else ''}: {why}")


ZONE_ID = re.compile(r"[A-Za-z0-9]{1,64}")
ZONE_NAME = re.compile(r"[A-Za-z0-9_*.-]{1,255}")
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
# (kind, op) -> the fields cleanup reads, and the pattern each must match (None: any string)
_FIELDS: Final[dict[tuple[str, str], dict[str, re.Pattern[str] | None]]] = {
    ("zone", "created"): {"id": ZONE_ID, "name": None},
    ("zone", "intent"): {"name": ZONE_NAME, "caller_reference": None},
    ("table", "created"): {"name": TABLE_NAME},
    ("table", "intent"): {"name": TABLE_NAME},
}


def _entry_problem(entry: dict[str, Any], run_id: str | None) -> str | None:
    for key in ("op", "kind"):
        if not isinstance(entry.get(key), str):
            return f"its {key!r} is {entry.get(key)!r}, not a string"
    if run_id is not None and entry.get("run") != run_id:
        return f"it names run {entry.get('run')!r}, but this is run {run_id}'s journal"
    for key, pattern in _FIELDS.get((entry["kind"], entry["op"]), {}).items():
        value = entry.get(key)
        if value is None and key != "id":
            continue  # a create whose request could not be read: nothing to look for
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            return f"its {entry['kind']} {key} {value!r} is not a valid one"
    return None


_JSON_KIND: Final[dict[type, str]] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def read_journal(path: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    """Every entry of a journal; BadJournal names the first line that is not one (not UTF-8,
    not JSON, not an object, a field of the wrong type, another run's). ``run_id``: each
    line must be that run's."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise BadJournal(path, None, "a directory, not a journal file") from None
    except OSError as exc:
        raise BadJournal(path, None, f"cannot be read ({exc.strerror or exc})") from None
    lines = data.split(b"\n")
    cut = lines.pop() if lines else b""  # after the last newline: b"" unless cut short
    if cut:
        lines.append(cut)
    out = []
    for n, raw in enumerate(lines, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJournal(
                path, n, f"not UTF-8 text (byte {raw[exc.start]:#04x} at column {exc.start + 1})"
            ) from None
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except (ValueError, RecursionError) as exc:
            short = " (the line is cut short)" if cut and n == len(lines) else ""
            raise BadJournal(path, n, f"not JSON: {exc}{short}") from None
        try:
            check_plain(entry, "entry")
        except InputError as exc:
            raise BadJournal(path, n, str(exc)) from None
        if not isinstance(entry, dict):
            raise BadJournal(
                path, n, f"a JSON {_JSON_KIND.get(type(entry), 'value')}, not an object"
            )
        problem = _entry_problem(entry, run_id)
        if problem is not None:
            raise BadJournal(path, n, problem)
        out.append(entry)
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
    """The journal, budget, tags and change watch of one run, wired into its guarded session
    (the account already checked through it)."""

    def __init__(self, guarded: Guarded, options: RealAwsOptions, run_id: str) -> None:
        self.guarded = guarded
        self.session = guarded.session
        self.options = options
        self.run_id = check_run_id(run_id)
        self.account = guarded.account or ""
        self.client_kw = guarded.client_kw
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
        self.table_names: set[str] = set()
        self.left_alone: list[str] = []
        self.probes: list[dict[str, Any]] = []
        self.probe_skipped: str | None = None
        self._lock = threading.Lock()
        self._accounting = True
        self._watchers: list[threading.Thread] = []
        self._stop = threading.Event()
        # The run's own tagging call is counted but never stopped by the budget: a zone it
        # made and could not tag would not be provably the run's, and cleanup would leave it.
        self._unbudgeted = threading.local()
        self.journal.write(
            "start",
            "run",
            account=self.account,
            region=self.session.region_name,
            partition=guarded.partition,
            endpoints=guarded.endpoints,
        )
        events = self.session.events
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
        return self.guarded.client(service)

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
            if getattr(self._unbudgeted, "on", False):
                self.calls += 1
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
            self._unbudgeted.on = True
            try:
                self.client("route53").change_tags_for_resource(
                    ResourceType="hostedzone",
                    ResourceId=zone_id,
                    AddTags=[{"Key": TAG_KEY, "Value": self.run_id}],
                )
            finally:
                self._unbudgeted.on = False
        elif op == TABLE_CREATE:
            desc = parsed.get("TableDescription", {})
            if desc.get("TableName"):
                self.table_names.add(str(desc["TableName"]))
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
        known = Candidates(
            zones={z: "this run" for z in self.zone_names},
            tables={t: "this run" for t in self.table_names},
        )
        try:
            try:
                report = clean_run(
                    self.journal.path, self.run_id, self._clients(), by_tag=True, known=known
                )
            except BadJournal as exc:  # changed under the running run: what it knows still goes
                report = clean_run(None, self.run_id, self._clients(), by_tag=True, known=known)
                report.bad.append(str(exc))
            self.deleted = report.deleted
            return report
        finally:
            self.journal.close()

    def _clients(self) -> CleanupClients:
        return CleanupClients(self.client("route53"), self.client("dynamodb"))

    def summary(self) -> dict[str, Any]:
        """What the result records about the account side of the run."""
        return {
            **self.guarded.summary(),
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
#
# A journal is a claim, not a proof: anyone who can write the journal directory can name
# any zone or table in it. What is deleted must prove itself on the account: the run's tag
# (dnschaos-run=<run id>) and a name under the run id, both read from AWS, never from the
# journal. Whatever fails either test is listed as not ours and left alone.


@dataclass
class CleanupClients:
    route53: Any
    dynamodb: Any


@dataclass
class CleanupReport:
    deleted: list[str] = field(default_factory=list)
    would_delete: list[str] = field(default_factory=list)  # a dry run's
    left_alone: list[str] = field(default_factory=list)  # named, but not provably the run's
    skipped: list[str] = field(default_factory=list)  # journals of live runs
    bad: list[str] = field(default_factory=list)  # journals that cannot be read, skipped
    errors: list[str] = field(default_factory=list)

    def merge(self, other: CleanupReport) -> None:
        self.deleted += other.deleted
        self.would_delete += other.would_delete
        self.left_alone += other.left_alone
        self.skipped += other.skipped
        self.bad += other.bad
        self.errors += other.errors

    def exit_code(self) -> int:
        """2 when a journal was bad or named something not ours (input to look at), else 3
        when a deletion failed, else 0."""
        if self.bad or self.left_alone:
            return 2
        return 3 if self.errors else 0

    def lines(self) -> list[str]:
        """What ``dnschaos cleanup`` prints, one line per resource or journal."""
        out = [f"deleted {x}" for x in self.deleted]
        out += [f"would delete {x}" for x in self.would_delete]
        out += [f"not ours, left alone: {x}" for x in self.left_alone]
        out += [f"skipped {x}" for x in self.skipped]
        out += [
            f"bad journal, skipped: {x.removeprefix('journal ')} (fix or remove it: without "
            "its journal, 'cleanup --run-id ID' still finds a run's resources by tag)"
            for x in self.bad
        ]
        out += [f"could not delete {x}" for x in self.errors]
        return out


@dataclass
class Candidates:
    """What may be a run's: zone id -> where it was named, table name -> where."""

    zones: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)


def zone_under(name: str, run_id: str) -> bool:
    """Whether a zone name is one :func:`scoped_name` made for ``run_id``."""
    labels = name.rstrip(".").lower().split(".")
    return len(labels) >= 2 and labels[max(1, len(labels) - 3)] == run_id


def table_under(name: str, run_id: str) -> bool:
    return name.startswith(f"dnschaos-{run_id}-")


def _tag_value(tags: list[dict[str, Any]]) -> str | None:
    return next((str(t.get("Value")) for t in tags if t.get("Key") == TAG_KEY), None)


def _not_ours(kind: str, name: str, tag: str | None, run_id: str) -> str | None:
    """Why a resource is not provably run ``run_id``'s, or None when it is."""
    reasons = []
    if tag is None:
        reasons.append(f"it has no {TAG_KEY} tag")
    elif tag != run_id:
        reasons.append(f"its {TAG_KEY} tag is {tag!r}, not {run_id!r}")
    under = zone_under(name, run_id) if kind == "zone" else table_under(name, run_id)
    if not under:
        reasons.append(f"its name is not under the run id {run_id}")
    return " and ".join(reasons) or None


def _zone_owner(r53: Any, zone_id: str, run_id: str) -> tuple[str, str | None] | None:
    """(the zone's name, why it is not ours or None); None when it no longer exists."""
    try:
        name = str(r53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"])
    except r53.exceptions.NoSuchHostedZone:
        return None
    tags = r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
    tag = _tag_value(tags.get("ResourceTagSet", {}).get("Tags", []))
    return name, _not_ours("zone", name, tag, run_id)


def _table_owner(ddb: Any, table: str, run_id: str) -> tuple[str | None] | None:
    """(why the table is not ours, or None when it is); None when it no longer exists."""
    try:
        arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    except ddb.exceptions.ResourceNotFoundException:
        return None
    tag = _tag_value(ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []))
    return (_not_ours("table", table, tag, run_id),)


def clean_run(
    journal: Path | None,
    run_id: str,
    clients: CleanupClients,
    *,
    by_tag: bool,
    delete: bool = True,
    known: Candidates | None = None,
) -> CleanupReport:
    """Delete what run ``run_id`` provably created: named by its journal (or ``known``, what
    a live run saw itself create) or carrying its tag, and each one carrying the tag and
    named under the run id on the account itself. ``delete=False``: list, delete nothing.
    Raises BadJournal when the journal cannot be read; nothing is then touched."""
    report = CleanupReport()
    found = Candidates(dict((known or Candidates()).zones), dict((known or Candidates()).tables))
    intents: list[tuple[str, str]] = []
    named_by = f"named in {journal}"
    if journal is not None and journal.exists():
        for entry in read_journal(journal, run_id):
            if entry["kind"] == "zone" and entry["op"] == "created":
                found.zones.setdefault(entry["id"], named_by)
            elif entry["kind"] == "zone" and entry["op"] == "intent" and entry.get("name"):
                intents.append((entry["name"], entry.get("caller_reference") or ""))
            elif entry["kind"] == "table" and entry.get("name"):
                found.tables.setdefault(entry["name"], named_by)
    r53, ddb = clients.route53, clients.dynamodb
    # A zone whose create was journaled but whose answer never came: found by reference.
    for name, ref in intents:
        try:
            for zone in r53.list_hosted_zones_by_name(DNSName=name).get("HostedZones", []):
                if zone["Name"] == name and zone.get("CallerReference") == ref:
                    found.zones.setdefault(zone["Id"].split("/")[-1], named_by)
        except Exception as exc:
            report.errors.append(f"looking up hosted zone {name}: {exc}")
    if by_tag:
        tag = f"tagged {TAG_KEY}={run_id}"
        try:
            for zone_id in _tagged_zones(r53, {run_id}):
                found.zones.setdefault(zone_id, tag)
            for table in _tagged_tables(ddb, {run_id}):
                found.tables.setdefault(table, tag)
        except Exception as exc:
            report.errors.append(f"listing what carries the tag {TAG_KEY}={run_id}: {exc}")
    for zone_id, source in sorted(found.zones.items()):
        label = f"hosted zone {zone_id}"
        try:
            owner = _zone_owner(r53, zone_id, run_id)
            if owner is None:
                continue  # already gone
            name, why = owner
            label = f"hosted zone {zone_id} ({name})"
            if why is not None:
                report.left_alone.append(f"{label}: {why} ({source})")
            elif not delete:
                report.would_delete.append(label)
            else:
                _delete_zone(r53, zone_id)
                report.deleted.append(label)
        except r53.exceptions.NoSuchHostedZone:
            pass
        except Exception as exc:
            report.errors.append(f"{label}: {exc}")
    for table, source in sorted(found.tables.items()):
        try:
            table_owner = _table_owner(ddb, table, run_id)
            if table_owner is None:
                continue  # already gone
            (why,) = table_owner
            if why is not None:
                report.left_alone.append(f"table {table}: {why} ({source})")
            elif not delete:
                report.would_delete.append(f"table {table}")
            else:
                ddb.delete_table(TableName=table)
                report.deleted.append(f"table {table}")
        except ddb.exceptions.ResourceNotFoundException:
            pass
        except Exception as exc:
            report.errors.append(f"table {table}: {exc}")
    finished = delete and not report.errors and not report.left_alone
    if journal is not None and journal.exists() and finished:
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


def _journal_file(path: Path) -> str | None:
    """Why ``path`` is not a journal file to open, or None (a FIFO would block the open)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "a directory, not a journal file"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None


def _clean_journal(
    clients: CleanupClients, path: Path | None, run_id: str, delete: bool
) -> CleanupReport:
    """One run's cleanup; a bad journal is reported and skipped, never a traceback."""
    report = CleanupReport()
    if path is not None:
        why = _journal_file(path)
        if why is not None:
            report.bad.append(f"journal {path}: {why}")
            return report
        try:
            live = _locked(path)
        except OSError as exc:
            report.bad.append(f"journal {path}: cannot be read ({exc.strerror or exc})")
            return report
        if live:
            report.skipped.append(f"run {run_id}: still running (its journal is locked)")
            return report
    try:
        report.merge(clean_run(path, run_id, clients, by_tag=True, delete=delete))
    except BadJournal as exc:
        report.bad.append(str(exc))
    return report


def cleanup(
    clients: CleanupClients,
    journal_dir: Path,
    *,
    run_id: str | None,
    all_journals: bool,
    delete: bool = True,
) -> CleanupReport:
    """``dnschaos cleanup``: one run's leftovers, or those of every journal in ``journal_dir``.
    ``delete=False`` lists what would be deleted and deletes nothing."""
    if run_id is not None:
        check_run_id(run_id)
        path = journal_dir / f"{run_id}.jsonl"
        exists = path.exists() or path.is_symlink()
        return _clean_journal(clients, path if exists else None, run_id, delete)
    assert all_journals
    report = CleanupReport()
    paths = sorted(journal_dir.glob("*.jsonl")) if journal_dir.is_dir() else []
    for path in paths:
        if not RUN_ID.fullmatch(path.stem):
            report.bad.append(
                f"journal {path}: its name is not <run id>.jsonl (a run id is lowercase "
                "letters and digits)"
            )
            continue
        report.merge(_clean_journal(clients, path, path.stem, delete))
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
    run_id = check_run_id(options.run_id) if options.run_id else new_run_id()
    accounts = require_accounts(options.accounts)  # before any credential is looked at
    guarded = make_session(spec.region, spec.endpoint_url, hermetic)
    check_account(guarded, accounts)
    try:
        run = RealRun(guarded, options, run_id)
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
        target = make_target(spec, guarded.session)
        key = id(target)
        _OPEN[key] = state
        yield target
    finally:
        _OPEN.pop(key, None)
        state.report = run.finish()


def cleanup_clients(
    region: str, endpoint_url: str | None, accounts: tuple[str, ...], hermetic: Hermetic
) -> tuple[CleanupClients, Guarded]:
    """Clients for ``dnschaos cleanup``, behind the same guard as a run (enablers checked by
    the caller), and the guarded session they come from (where they go, which account)."""
    checked = require_accounts(accounts)
    guarded = make_session(region, endpoint_url, hermetic)
    check_account(guarded, checked)
    return CleanupClients(guarded.client("route53"), guarded.client("dynamodb")), guarded


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
    summary["cleanup"] = {
        "deleted": report.deleted,
        "errors": report.errors,
        "left_alone": report.left_alone,
        "bad_journal": report.bad,
    }
    result.aws = summary
    if state.run.exhausted is not None:
        # A violation seen before the budget ran out stands; anything else proves nothing.
        if result.verdict != "fail":
            result.verdict = "unknown"
        result.reason = state.run.exhausted
    refused = state.run.guarded.refused
    if refused:
        # A request the guard stopped: the run did not do what it was meant to.
        if result.verdict != "fail":
            result.verdict = "unknown"
        result.reason = _also(result.reason, refused[0])
    if report.errors or report.left_alone:
        left = [*report.errors, *(f"not ours, left alone: {x}" for x in report.left_alone)]
        result.reason = _also(
            result.reason,
            f"cleanup left resources behind ({'; '.join(left)}): "
            f"run 'dnschaos cleanup --target aws --run-id {state.run.run_id}'",
        )


def _also(reason: str | None, more: str) -> str:
    return f"{reason}; {more}" if reason else more
