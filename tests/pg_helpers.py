"""A private PostgreSQL server for the tests: initdb in a temporary folder, a Unix socket
there, no TCP. As root (CI), the server runs as the ``postgres`` user, which PostgreSQL
requires. Where no server can start, the tests that need one skip and say why."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PASSWORD_USER = "msl_pw"


@dataclass
class PgServer:
    folder: Path
    bin_dir: Path
    prefix: list[str]
    _names = itertools.count(1)

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"),
             "-m", "immediate", "-w", "stop"],
            capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


def start_server(*, durable: bool = False) -> PgServer | str:
    """A running private server, or the reason there cannot be one. Tests run it without
    fsync (its data is thrown away); ``durable`` keeps PostgreSQL's defaults (benchmarks)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return 'psycopg is not installed (pip install -e ".[test]")'
    bin_dir = _bin_dir()
    if bin_dir is None:
        return "PostgreSQL is not installed (no initdb; .ci/run installs it with apt-get)"
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="msl-pg-"))
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root.
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    os.chmod(folder, 0o700)
    data = folder / "data"
    steps = [
        [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
         "-E", "UTF8", "--locale=C", "--no-sync"],
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60",
         "-o", f"-c listen_addresses='' -k {folder} -c max_connections=50"
               + ("" if durable else
                  " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"),
         "start"],
    ]  # fmt: skip
    for number, step in enumerate(steps):
        if number == 1:
            # One user must give a password (the wrong-password test); the rest are trusted.
            hba = f"local all {PASSWORD_USER} scram-sha-256\nlocal all all trust\n"
            subprocess.run(
                [*prefix, "sh", "-c", f"cat > {data / 'pg_hba.conf'}"],
                input=hba, text=True, check=True,
            )  # fmt: skip
        result = subprocess.run([*prefix, *step], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = (folder / "log").read_text() if (folder / "log").exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            words = (result.stderr or log or result.stdout).strip().splitlines()
            return f"PostgreSQL could not start: {words[-1] if words else 'no message'}"
    return PgServer(folder, bin_dir, prefix)
