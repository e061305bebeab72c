"""A throw-away PostgreSQL cluster on a free port of 127.0.0.1, for the tests and the benchmarks.

It starts the installed server binaries (`initdb`, `pg_ctl`: on PATH, or Debian's
/usr/lib/postgresql/N/bin): PostgreSQL refuses to run as root, so when this process is root the
cluster's folder belongs to the `postgres` user and the binaries run as that user (`runuser`). The
cluster trusts local connections, has fsync off (its data is thrown away) and is stopped and removed
by `stop()`. Nothing here is part of the bot.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "postgres"
SWITCH = "LIAISON_TEST_DATABASE"  # =postgresql: the tests' databases on PostgreSQL (tests/conftest.py)
MIGRATED = "liaison_migrated"  # the template each harness's database is copied from


def wanted() -> bool:
    """Whether this test run puts its databases on PostgreSQL."""
    return os.environ.get(SWITCH, "sqlite").strip().lower() in ("postgresql", "postgres", "pg")


def binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    raise RuntimeError(f"PostgreSQL's {name} was not found (Debian: apt-get install postgresql)")


def available() -> bool:
    try:
        binary("initdb")
        binary("pg_ctl")
    except RuntimeError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """`Cluster.start()`, then `url(dbname)`, then `stop()`."""

    def __init__(self, folder: Path, port: int, as_root: bool) -> None:
        self.folder = folder
        self.port = port
        self._as_root = as_root

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str) -> None:
        command = list(argv)
        if self._as_root:
            command = ["runuser", "-u", USER, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    @classmethod
    def start(cls, *, durable: bool = False) -> Cluster:
        """For the tests: in memory, fsync off. `durable`: on disk with every commit flushed, as a production
        server is (the benchmarks that set it beside SQLite's synchronous=FULL)."""
        as_root = os.geteuid() == 0
        # Not in pytest's numbered folders: the postgres user must reach it, and its socket path be short.
        ram = Path("/dev/shm")
        folder = Path(tempfile.mkdtemp(prefix="liaison-pg-", dir="/tmp" if durable or not ram.is_dir() else ram))
        if as_root:
            shutil.chown(folder, USER, USER)
        cluster = cls(folder, _free_port(), as_root)
        try:
            cluster._run(binary("initdb"), "-D", str(cluster.data), "-U", USER, "-A", "trust", "-E", "UTF8",
                         "--locale=C", "--no-sync")
            options = f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
            if not durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            cluster._run(binary("pg_ctl"), "-D", str(cluster.data), "-o", options, "-l", str(folder / "log"),
                         "-w", "start")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return cluster

    def stop(self) -> None:
        try:
            self._run(binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def psql(self, sql: str, database: str = "postgres") -> None:
        """One statement through psql (no driver needed; CREATE DATABASE cannot run in a transaction)."""
        subprocess.run([binary("psql") if shutil.which("psql") else "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        "-d", self.url(database), "-c", sql],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


class TestDatabases:
    """The databases of one test session on its cluster: one per test folder (so `test_config(tmp_path)` called
    twice, as a simulated restart does, names the same database), empty or copied from the migrated template,
    dropped when the test ends."""

    def __init__(self, cluster: Cluster) -> None:
        import psycopg  # the tests' own admin connection (CREATE DATABASE cannot run in a transaction)

        self.cluster = cluster
        self._admin = psycopg.connect(cluster.url(), autocommit=True)
        self._made: dict[str, str] = {}
        self._kept: dict[str, str] = {}
        self.used = False  # whether the current test opened a database here (reset per test by tests/conftest.py)
        self.tests_on_postgresql = 0
        self.tests_elsewhere: list[str] = []  # tests that ran with no database of the cluster (SQLite files, none)

    @staticmethod
    def name(folder: Path) -> str:
        return "t_" + hashlib.sha256(str(folder).encode()).hexdigest()[:20]

    def url_for(self, folder: Path, template: str = "template0", keep: bool = False) -> str:
        """The database of `folder`, made on first use (a copy of `template`); `keep`: for the whole session (a
        world built once and copied by many tests), else dropped when the test ends."""
        name = self.name(folder)
        if name not in self._made and name not in self._kept:
            self._admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
            (self._kept if keep else self._made)[name] = template
        self.used = True
        return self.cluster.url(name)

    def drop(self, folder: Path) -> None:
        name = self.name(folder)
        if self._made.pop(name, None) is not None:
            self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def drop_all(self) -> None:
        """Drop the databases the test made."""
        for name in list(self._made):
            self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            del self._made[name]

    def make_template(self) -> str:
        self._admin.execute(f"CREATE DATABASE {MIGRATED} TEMPLATE template0")
        return self.cluster.url(MIGRATED)

    def close(self) -> None:
        self._admin.close()


current: TestDatabases | None = None  # set by tests/conftest.py's session fixture when `wanted()`
last: TestDatabases | None = None  # the session's, once its cluster is stopped (for the summary)


def for_a_module() -> Iterator[Cluster]:
    """A module's cluster: the run's own on PostgreSQL runs, else one started for the module (its tests skipped
    where PostgreSQL's server binaries are not installed). `yield from` it in a module-scoped fixture."""
    import pytest

    if current is not None:
        yield current.cluster
        return
    if not available():
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    own = Cluster.start()
    try:
        yield own
    finally:
        own.stop()
