"""A network of its own for a process actor: a loopback with the gate on it, nothing else.

The environment points a process's SDK at the gate, but a program can still open a
socket to any address it likes (a hard-coded endpoint, an SDK that ignores
``AWS_ENDPOINT_URL`` for some service, a metadata service, a DNS resolver). On Linux
with the right to make namespaces (root, or ``CAP_SYS_ADMIN``), :func:`private_network`
closes that door: the thread that starts the process moves into a new network
namespace, brings its loopback up, opens the gate's listening socket there and starts
the process, which inherits the namespace; then the thread moves back. The process sees
one interface, ``lo``, and one listening socket on it, the gate's: every other address,
on loopback or off it, is refused or unreachable.

A socket belongs to the namespace it was made in, so the gate keeps serving from this
process's own threads after the thread has moved back.

Where namespaces cannot be made (not Linux, no privilege), the process runs in this
process's network, and the run says so in the history (``network`` in the
``process-start`` event): the gate still answers every request the SDK sends, but
nothing stops a request sent elsewhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import socket
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

_CLONE_NEWNET: Final = 0x40000000
_SIOCGIFFLAGS: Final = 0x8913
_SIOCSIFFLAGS: Final = 0x8914
_IFF_UP: Final = 0x1
_IFREQ: Final = "16sH22x"  # struct ifreq: the name, then ifr_flags, padded to 40 bytes

ISOLATED: Final = "isolated: its own network namespace, the gate alone on its loopback"


@dataclass(frozen=True)
class Network:
    """Where the process's sockets go: ``isolated``, or why not."""

    isolated: bool
    text: str


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        got = fcntl.ioctl(s, _SIOCGIFFLAGS, struct.pack(_IFREQ, b"lo", 0))
        flags = struct.unpack(_IFREQ, got)[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


@contextlib.contextmanager
def private_network() -> Iterator[Network]:
    """Within the block, this thread is in a new network namespace with its loopback up:
    sockets made and processes started there stay in it. On leaving, the thread is back
    in the network it came from. If no namespace can be made, the block runs where it
    is, and the :class:`Network` it gets says why."""
    if not sys.platform.startswith("linux"):
        yield Network(False, f"not isolated: network namespaces are Linux's ({sys.platform})")
        return
    libc = _libc()
    try:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    except OSError as exc:
        yield Network(False, f"not isolated: cannot read this thread's namespace ({exc})")
        return
    try:
        if libc.unshare(_CLONE_NEWNET) != 0:
            why = os.strerror(ctypes.get_errno())
            yield Network(
                False,
                f"not isolated: no network namespace could be made ({why}; it needs root or "
                "CAP_SYS_ADMIN): the process could reach any address",
            )
            return
        try:
            _loopback_up()
            yield Network(True, ISOLATED)
        finally:
            if libc.setns(home, _CLONE_NEWNET) != 0:
                # A thread left in the private network would make every later socket of
                # this actor there: fail loudly rather than run on in the wrong place.
                raise OSError(ctypes.get_errno(), "cannot return to the harness's network")
    finally:
        os.close(home)


__all__ = ["ISOLATED", "Network", "private_network"]
