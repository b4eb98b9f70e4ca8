"""The file through which a server under libfaketime learns the run's time (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnschaos.adapters.dnsserve import servers as dns_servers
from dnschaos.adapters.dnsserve.servers import DnsServerError, FakedClock, find_faketime
from dnschaos.sim.clock import INCIDENT_EPOCH


def test_set_writes_the_time_in_the_format_libfaketime_is_told(tmp_path: Path) -> None:
    clock = FakedClock("/lib/libfaketime.so.1", tmp_path, INCIDENT_EPOCH)
    assert clock.path.read_text() == "1760940000.000000\n"
    clock.set(INCIDENT_EPOCH + 3 * 3600 + 0.25)
    assert clock.path.read_text() == "1760950800.250000\n"
    assert clock.now == INCIDENT_EPOCH + 3 * 3600 + 0.25
    assert [p.name for p in tmp_path.iterdir()] == [clock.path.name]  # no partial file left
    env = clock.environment()
    assert env["FAKETIME_TIMESTAMP_FILE"] == str(clock.path)
    assert env["FAKETIME_FMT"] == "%s" and env["FAKETIME_NO_CACHE"] == "1"
    assert env["LD_PRELOAD"].split()[0] == "/lib/libfaketime.so.1"
    assert env["FAKETIME_DONT_FAKE_MONOTONIC"] == "1" and env["TZ"] == "UTC"


def test_the_faked_clock_never_goes_back(tmp_path: Path) -> None:
    clock = FakedClock("/lib/libfaketime.so.1", tmp_path, INCIDENT_EPOCH + 10)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.set(INCIDENT_EPOCH + 9.5)
    assert clock.path.read_text() == "1760940010.000000\n"
    with pytest.raises(ValueError, match="seconds since the Unix epoch"):
        clock.set(float("nan"))


def test_an_inherited_faketime_setting_does_not_override_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKETIME", "-1d")  # libfaketime would prefer it to the file
    monkeypatch.setenv("LD_PRELOAD", "/opt/other.so")
    env = FakedClock("/lib/libfaketime.so.1", tmp_path, INCIDENT_EPOCH).environment()
    assert "FAKETIME" not in env
    assert env["LD_PRELOAD"] == "/lib/libfaketime.so.1 /opt/other.so"


def test_a_missing_libfaketime_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dns_servers, "_faketime_dirs", lambda: [str(tmp_path)])
    with pytest.raises(DnsServerError, match="apt-get install libfaketime") as failed:
        find_faketime()
    assert "--clock real" in str(failed.value)
    (tmp_path / "libfaketime.so.1").write_bytes(b"")
    assert find_faketime() == str(tmp_path / "libfaketime.so.1")
