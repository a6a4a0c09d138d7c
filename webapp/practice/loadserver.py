"""A real Etude server for the streaming benchmark: daphne on a free loopback port against a fresh database.

Set up as tests/e2e/conftest.py and ``make run`` do: ``migrate`` and ``seed_demo`` on a database of its own
(a new Postgres database when DATABASE_URL points at Postgres, else SQLite in a temporary folder), then
``daphne webapp.asgi:application``. In worker mode (``ETUDE_INFERENCE_MODE=worker``, the Redis channel
layer) ``manage.py inference_worker`` processes do the listening. Server processes can be pinned to some
CPUs with ``taskset``, so that takes per core are measured directly.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT_S = 60.0
_LESSON_LINE = re.compile(r"^\s*lesson (\d+): (.+) \(\d+ notes\)$", re.M)


class ServerError(RuntimeError):
    """The benchmark's server could not be set up."""


@dataclass
class ServerConfig:
    mode: str = "inprocess"
    """``inprocess`` (the embedded default) or ``worker``."""
    cpus: list[int] = field(default_factory=list)
    """CPUs the server processes may run on; empty: no pinning."""
    workers: int = 1
    """``inference_worker`` processes in worker mode."""
    redis_url: str = DEFAULT_REDIS_URL
    extra_env: dict[str, str] = field(default_factory=dict)


class BenchServer:
    """Context manager: a fresh database, the demo course, daphne (and workers); ``base_url`` once entered."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.base_url = ""
        self.lessons: dict[str, int] = {}
        """Demo lesson ids by title, as ``seed_demo`` printed them."""
        self._tmp = Path(tempfile.mkdtemp(prefix="etude-bench-"))
        self._database_url = ""
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        """Server processes by name, in the order they started."""
        self._logs: list[IO[bytes]] = []

    def __enter__(self) -> BenchServer:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        processes = list(reversed(self._processes.values()))
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self._logs:
            log.close()
        if self._database_url:
            drop_database(self._database_url)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system, all threads) each server process has used so far, by name."""
        tick = os.sysconf("SC_CLK_TCK")
        used = {}
        for name, process in self._processes.items():
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used[name] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15 of stat)
        return used

    def cpu_busy_seconds(self) -> float:
        """CPU time the pinned CPUs have spent busy so far, by any process (0 when not pinned)."""
        tick = os.sysconf("SC_CLK_TCK")
        names = {f"cpu{cpu}" for cpu in self.config.cpus}
        busy = 0
        for line in Path("/proc/stat").read_text().splitlines():
            fields = line.split()
            if fields and fields[0] in names:  # user nice system idle iowait irq softirq steal
                busy += sum(int(x) for x in fields[1:4]) + sum(int(x) for x in fields[6:9])
        return busy / tick

    def log_tail(self, chars: int = 4000) -> str:
        """The end of each server process's log, for an error report."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}" for path in sorted(self._tmp.glob("*.log"))
        )

    def _start(self) -> None:
        env = self._environment()
        for command in (["migrate", "--noinput"], ["seed_demo"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=env, capture_output=True
            )
            if done.returncode:
                raise ServerError(f"manage.py {command[0]} failed:\n{done.stderr.decode()[-2000:]}")
        self.lessons = {title: int(pk) for pk, title in _LESSON_LINE.findall(done.stdout.decode())}
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        if self.config.mode == "worker":
            for index in range(self.config.workers):
                self._spawn(f"worker{index}", ["manage.py", "inference_worker"], env, ready="Inference worker ready.")
        self._spawn("daphne", ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webapp.asgi:application"], env)
        self._wait_for_port(port)

    def _wait_for_port(self, port: int) -> None:
        daphne, deadline = self._processes["daphne"], time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and daphne.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise ServerError(f"daphne did not start:\n{self.log_tail()}")

    def _environment(self) -> dict[str, str]:
        self._database_url = fresh_database_url(self._tmp)
        env = {
            **os.environ,
            "DATABASE_URL": self._database_url,
            "ETUDE_VAR_DIR": str(self._tmp),
            "DJANGO_DEBUG": "1",  # as `make run`: the embedded default's settings, no TLS-only cookies
            "ETUDE_LOG_LEVEL": "WARNING",
            "ETUDE_INFERENCE_MODE": self.config.mode,
            **self.config.extra_env,
        }
        if self.config.mode == "worker":
            env["REDIS_URL"] = self.config.redis_url
            env["ETUDE_CHANNEL_PREFIX"] = f"etude-bench-{uuid.uuid4().hex[:6]}"
        return env

    def _spawn(self, name: str, args: list[str], env: dict[str, str], ready: str = "") -> None:
        log_path = self._tmp / f"{name}.log"
        log = log_path.open("wb")
        self._logs.append(log)
        pin = ["taskset", "-c", ",".join(map(str, self.config.cpus))] if self.config.cpus else []
        process = subprocess.Popen(
            [*pin, sys.executable, *args], cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self._processes[name] = process
        deadline = time.monotonic() + START_TIMEOUT_S
        while ready and ready not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"{name} did not start:\n{self.log_tail()}")
            time.sleep(0.2)


def fresh_database_url(tmp: Path, prefix: str = "etude_bench") -> str:
    """A database of its own: a new Postgres database when DATABASE_URL points at Postgres, else SQLite in
    ``tmp`` (the benchmark's server and the browser tests each start one)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / (prefix + '.sqlite3')}"
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
