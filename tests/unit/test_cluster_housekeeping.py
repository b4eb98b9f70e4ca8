"""The Dask settings the manual recommends for campaign workers, and the note that says
when a cluster's workers run without them.

The settings are given as environment variables; a misspelt one is silently ignored by
Dask, so each is read back through Dask's own configuration code here."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("distributed")

import dask.config

from dnschaos.explore import cluster


def settings_with(env: dict[str, str]) -> dict[str, Any]:
    """What a worker started with ``env`` would report, through Dask's own reading."""
    with dask.config.set(dask.config.collect_env(env)):
        return cluster._housekeeping()


class FakeClient:
    """The note's questions to the cluster: ``run`` (what each worker answers) and
    ``run_on_scheduler`` (the scheduler's settings, one at a time, through Dask's own
    ``dask.config.get``: the scheduler need not have dnschaos)."""

    def __init__(self, answers: dict[str, Any], scheduler: dict[str, Any] | None = None) -> None:
        self.answers = answers
        self.scheduler = scheduler if scheduler is not None else settings_with(cluster.QUIET_DASK)

    def run(self, fn: Any, on_error: str) -> dict[str, Any]:
        assert fn is cluster._housekeeping and on_error == "return"
        return self.answers

    def run_on_scheduler(self, fn: Any, key: str, default: Any) -> Any:
        assert fn is dask.config.get and default is None
        if isinstance(self.scheduler, BaseException):
            raise self.scheduler
        return self.scheduler[key]


def test_every_quiet_setting_reaches_dask() -> None:
    quiet = settings_with(cluster.QUIET_DASK)
    defaults = settings_with({})
    for key, value in cluster._QUIET:
        assert quiet[key] == value, key
        assert defaults[key] != value, f"{key}: Dask's default is already quiet"


def test_the_note_names_what_runs_often() -> None:
    quiet = settings_with(cluster.QUIET_DASK)
    defaults = settings_with({})
    assert cluster.housekeeping_note(FakeClient({"w1": quiet, "w2": quiet})) is None
    line = cluster.housekeeping_note(FakeClient({"w1": quiet, "w2": defaults}))
    assert line is not None
    for key, _ in cluster._QUIET:
        assert key in line
    one = dict(quiet, **{"distributed.admin.tick.interval": "20ms"})
    line = cluster.housekeeping_note(FakeClient({"w1": one}))
    assert line is not None and "distributed.admin.tick.interval" in line
    assert "profile" not in line
    # A worker that failed to answer is the version check's business, not the note's.
    assert cluster.housekeeping_note(FakeClient({"w1": quiet, "w2": OSError("gone")})) is None


def test_the_note_asks_the_scheduler_its_own_settings() -> None:
    quiet = settings_with(cluster.QUIET_DASK)
    defaults = settings_with({})
    line = cluster.housekeeping_note(FakeClient({"w1": quiet}, scheduler=defaults))
    assert line is not None
    scheduler_part = line.split("scheduler: ")[1].split(")")[0]
    # Only what a scheduler runs: no profiler, no memory monitor.
    assert scheduler_part == (
        "distributed.admin.system-monitor.interval, distributed.admin.tick.interval"
    )
    assert "workers:" not in line
    both = cluster.housekeeping_note(FakeClient({"w1": defaults}, scheduler=defaults))
    assert both is not None and "scheduler: " in both and "workers: " in both
    # A scheduler that cannot answer leaves the note to the workers; it stops nothing.
    gone = FakeClient({"w1": quiet}, scheduler=OSError("gone"))  # type: ignore[arg-type]
    assert cluster.housekeeping_note(gone) is None


@pytest.mark.parametrize(
    ("got", "quiet", "busy"),
    [
        ("20ms", "1s", True),
        ("1s", "1s", False),
        ("10s", "5s", False),
        (0.1, "1s", True),  # a number is milliseconds, as Dask reads these settings
        (2000, "1s", False),
        (True, False, True),
        (False, False, False),
        ("soon", "1s", False),  # Dask itself refuses it; not judged here
        (None, "1s", False),
    ],
)
def test_busy(got: Any, quiet: str | bool, busy: bool) -> None:
    assert cluster._busy("k", got, quiet) is busy
