"""A lecture hall: several app processes behind one reverse proxy, for a room larger than one Streamlit process
serves (about 80 people drawing at once on a 2-core laptop: docs/workshop.md).

    python -m digits serve --replicas 4 --port 8501                       # this machine only
    python -m digits serve --replicas 4 --port 8501 --address 0.0.0.0     # the room's network

Each replica is `streamlit run app.py` on a loopback port of its own; Caddy (Debian's `caddy` package) listens on
the port people open. Why Caddy: Streamlit keeps a browser's session, its uploads and its media files in one
process's memory, so every request of a browser must reach the same replica, and a room behind one NAT shares
one address. Caddy's reverse proxy sets a cookie of its own for that (`lb_policy cookie`), passes websockets
through without a read timeout and takes a replica that stops answering out of the rotation. nginx's free
version can only hash on the address (`ip_hash` uses the first three octets of an IPv4 address: a whole
classroom on one replica) or on a cookie something else must set; its `sticky cookie` is nginx Plus's.

What the replicas share is on disk: the drawings store (SQLite in WAL mode takes writers from every process),
runs/ and checkpoints/ (one training run at a time: the run lock is a file lock), the presenter key (the
environment). The warm spare training process (digits.spare) lives in replica 1 only; a Start pressed on another
replica starts a run cold. All replicas sign their cookies with one secret, so a browser that moves to another
replica (its own died) keeps working. A replica that dies is started again on its port; Ctrl-C stops them all."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
MAX_REPLICAS = 16
HEALTH = "/_stcore/health"


class ServeError(RuntimeError):
    """Why the hall cannot be served, in one line."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def caddyfile(port: int, address: str, upstreams: list[int]) -> str:
    """Caddy's configuration: one site on address:port proxying to the replicas, a browser kept on one of them by
    the cookie `digits_replica`."""
    return f"""{{
    admin off
    auto_https off
}}

http://:{port} {{
    bind {address}
    reverse_proxy {' '.join(f'127.0.0.1:{p}' for p in upstreams)} {{
        lb_policy cookie digits_replica
        lb_try_duration 10s
        lb_try_interval 250ms
        fail_duration 5s
        health_uri {HEALTH}
        health_interval 2s
        health_timeout 2s
        flush_interval -1
    }}
}}
"""


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def this_machine() -> str | None:
    """This machine's address on its network: the source address of a route out (a UDP "connect" sends
    nothing); None without a network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never answered, only routed
            return s.getsockname()[0]
        except OSError:
            return None


def allowed_hosts(address: str, hosts: list[str]) -> list[str]:
    """The names a replica answers to: this machine's, the names people type (`--host`) and, listening on every
    interface, this machine's network address (an address cannot be rebound to another site as a name can)."""
    names = [*LOOPBACK, *hosts]
    if address in ("0.0.0.0", "::") and (mine := this_machine()):
        names.append(mine)
    elif address not in LOOPBACK and address not in ("0.0.0.0", "::"):
        names.append(address)
    return list(dict.fromkeys(names))


def replica_command(port: int, hosts: list[str]) -> list[str]:
    allowed = [arg for host in hosts for arg in ("--server.allowedHosts", host)]
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true", *allowed]


class Hall:
    """The replicas and the proxy, each process started, watched and ended by its PID."""

    def __init__(self, replicas: int, port: int, address: str, hosts: list[str] = (), env: dict | None = None):
        if not 1 <= replicas <= MAX_REPLICAS:
            raise ServeError(f"--replicas is a number from 1 to {MAX_REPLICAS}, got {replicas}")
        if not 1 <= port <= 65535:
            raise ServeError(f"--port is a port number from 1 to 65535, got {port}")
        self.caddy = shutil.which("caddy")
        if self.caddy is None:
            raise ServeError("Caddy is not installed: `apt-get install caddy` (Debian, Ubuntu), or see "
                             "https://caddyserver.com/docs/install")
        self.port, self.address, self.count = port, address, replicas
        self.hosts = allowed_hosts(address, list(hosts))
        self.env = dict(os.environ if env is None else env)
        # What the pages tell people to open (webapp/address.py): the proxy's address and port, not the replica's.
        self.env.update(DIGITS_HALL_ADDRESS=address, DIGITS_HALL_PORT=str(port))
        self.env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))  # one for all replicas
        self.ports = [free_port() for _ in range(replicas)]
        self.folder = Path(tempfile.mkdtemp(prefix="digits-hall-"))
        self.replicas: list[subprocess.Popen | None] = [None] * replicas
        self.proxy: subprocess.Popen | None = None

    def _start_replica(self, k: int) -> None:
        env = {**self.env, "DIGITS_REPLICA": f"{k + 1}/{self.count}"}
        if k > 0:
            env["DIGITS_SPARE"] = "0"  # the warm spare lives in replica 1 only
        self.replicas[k] = subprocess.Popen(replica_command(self.ports[k], self.hosts), env=env,
                                            stdin=subprocess.DEVNULL)

    def start(self, timeout: float = 120.0) -> None:
        for k in range(self.count):
            self._start_replica(k)
        deadline = time.monotonic() + timeout
        for k, port in enumerate(self.ports):
            wait_healthy(port, deadline, self.replicas[k])
        config = self.folder / "Caddyfile"
        config.write_text(caddyfile(self.port, self.address, self.ports))
        home = {"XDG_DATA_HOME": str(self.folder), "XDG_CONFIG_HOME": str(self.folder), "HOME": str(self.folder)}
        self.proxy = subprocess.Popen([self.caddy, "run", "--config", str(config), "--adapter", "caddyfile"],
                                      env={**self.env, **home}, stdin=subprocess.DEVNULL)
        local = {"0.0.0.0": "127.0.0.1", "::": "::1", "localhost": "127.0.0.1"}  # where to ask for its health
        wait_healthy(self.port, deadline, self.proxy, what="Caddy", host=local.get(self.address, self.address))

    def watch(self, interval: float = 1.0) -> None:
        """Start again any replica that died, until the proxy ends (or this process is told to stop)."""
        while self.proxy is not None and self.proxy.poll() is None:
            for k, proc in enumerate(self.replicas):
                if proc is not None and proc.poll() is not None:
                    print(f"replica {k + 1} (port {self.ports[k]}) ended with {proc.returncode}: starting it again",
                          flush=True)
                    self._start_replica(k)
            time.sleep(interval)
        raise ServeError(f"the proxy ended with {self.proxy.returncode if self.proxy else '?'}")

    def stop(self) -> None:
        for proc in [self.proxy, *self.replicas]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [self.proxy, *self.replicas]:
            if proc is not None:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_healthy(port: int, deadline: float, proc: subprocess.Popen, host: str = "127.0.0.1",
                 what: str = "a replica") -> None:
    """Wait until http://host:port/_stcore/health answers ok; ServeError when the process ends or time is up."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServeError(f"{what} ended at start-up with {proc.returncode} (its messages are above; port {port} "
                             "taken?)")
        try:
            with urllib.request.urlopen(f"http://{f'[{host}]' if ':' in host else host}:{port}{HEALTH}",
                                        timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise ServeError(f"port {port} did not answer in time")


def serve(replicas: int, port: int, address: str, hosts: list[str] = ()) -> int:
    """Run the hall until Ctrl-C (or SIGTERM); 0 when stopped, 1 with a one-line reason."""
    try:
        hall = Hall(replicas, port, address, hosts)
    except ServeError as e:
        print(f"serve: {e}", file=sys.stderr)
        return 1

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        hall.start()
        shown = "localhost" if address in LOOPBACK else f"[{address}]" if ":" in address else address
        print(f"{replicas} replica{'s' if replicas != 1 else ''} behind Caddy: http://{shown}:{port}", flush=True)
        hall.watch()
    except KeyboardInterrupt:
        return 0
    except ServeError as e:
        print(f"serve: {e}", file=sys.stderr)
        return 1
    finally:
        hall.stop()
    return 0
