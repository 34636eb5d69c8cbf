"""A real PostgreSQL server for the store's tests: Debian's `postgresql` binaries, a data folder of its own in a
temporary directory, a free loopback port, trust authentication for one user, no fsync (a test's data need not
survive a power cut). Started and stopped by the tests themselves; as root (CI), the server runs as the
`postgres` user the package makes, since PostgreSQL refuses to run as root."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from testkit.served import free_port


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """What this machine lacks to run the server and talk to it, or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is missing (pip install -r requirements-dev.txt)"
    return None if binaries() else "PostgreSQL is missing (apt-get install postgresql)"


class Server:
    def __init__(self):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is missing: apt-get install postgresql")
        self.folder = Path(tempfile.mkdtemp(prefix="digits-pg-"))
        self.data, self.port = self.folder / "data", free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        try:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "digits", "--no-sync", "-E", "UTF8")
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "start", "-o",
                      f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
                      "-c synchronous_commit=off -c full_page_writes=off")
        except (subprocess.SubprocessError, OSError):
            self.stop()  # a server half started, and its folder, go
            raise

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://digits@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new, empty database on the server; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        except (subprocess.SubprocessError, OSError):
            pass  # not running
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
