"""The hub as its operators run it: ``irthub hub run`` in a child process.

For tests of what only a separate process shows (a hub killed mid-delivery,
several hubs sharing PostgreSQL) and for benchmarks. The process binds its
own port, so its URL comes from ``tests.support.loopback.free_port``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.referral_world import wait_until

__all__ = ["HubProcess"]


@dataclass
class HubProcess:
    """``irthub hub run --config CONFIG``, its output appended to ``log``; started at will."""

    config: Path
    log: Path
    url: str = ""
    """The URL its configuration listens on, for clients to post to."""
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    """How many times it was started: each start waits for one more "listening on"."""

    async def start(self, *, timeout: float = 30.0) -> None:
        """Start the hub and wait until it says it is listening.

        Raises ``AssertionError`` if it has not within ``timeout`` seconds.
        """
        self.starts += 1
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from irthub.cli import main; main()", "hub", "run",
                 "--config", str(self.config)],
                stdout=log,
                stderr=log,
            )  # fmt: skip
        await wait_until(
            lambda: self.log.read_text().count("listening on") >= self.starts, timeout=timeout
        )

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the hub gets no chance to finish anything."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, *, timeout: float = 20.0) -> None:
        """SIGTERM, and wait for a clean exit."""
        if self.process is not None and self.alive:
            self.process.terminate()
            self.process.wait(timeout=timeout)
