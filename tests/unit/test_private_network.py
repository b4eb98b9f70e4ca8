"""The private network of a process actor: the thread that makes it comes back to the
harness's network, and what it made inside stays inside."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from dnschaos.adapters.gate.network import private_network


def _here() -> str:
    return os.readlink("/proc/thread-self/ns/net")


def test_the_thread_goes_back_and_the_process_stays_inside() -> None:
    before = _here()
    outside = socket.socket()
    outside.bind(("127.0.0.1", 0))
    outside.listen()
    port = outside.getsockname()[1]
    probe = (
        "import socket, sys\n"
        "s = socket.socket(); s.settimeout(3)\n"
        "try:\n    s.connect(('127.0.0.1', int(sys.argv[1]))); print('connected')\n"
        "except OSError as e:\n    print(type(e).__name__)\n"
    )
    with private_network() as network:
        inside_ns = _here()
        inside = socket.socket()
        inside.bind(("127.0.0.1", 0))
        inside.listen()
        to_outside = subprocess.Popen(
            [sys.executable, "-c", probe, str(port)], stdout=subprocess.PIPE, text=True
        )
        to_inside = subprocess.Popen(
            [sys.executable, "-c", probe, str(inside.getsockname()[1])],
            stdout=subprocess.PIPE,
            text=True,
        )
    assert _here() == before
    said = (
        to_outside.communicate(timeout=30)[0].strip(),
        to_inside.communicate(timeout=30)[0].strip(),
    )
    outside.close()
    inside.close()
    if os.geteuid() != 0:
        assert not network.isolated and network.text.startswith("not isolated")
        return
    assert network.isolated and inside_ns != before
    assert said == ("ConnectionRefusedError", "connected")
