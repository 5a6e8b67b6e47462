"""The production shape on one machine (docs/operations.md, "Several server processes"): HAProxy
from Debian in front of three Daphne processes (`sprechzimmer serve`), the task worker, PostgreSQL
and Redis. Used by tests/browser/test_production_shape.py and, in the foreground, by
scripts/production-shape.

HAProxy balances by least connections (websockets are long-lived, so round robin would pile them up
unevenly after a restart), checks every process each second (three misses take it out) and, when a connection to a process
fails, retries it on another one (``option redispatch``): a killed or restarting process costs a
reconnecting client one failed attempt at most, not a wait for the health check.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser.conftest import free_port, start_daphne, start_worker, wait_listening

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def haproxy_config(port: int, servers: dict[str, int], stats_socket: Path) -> str:
    """The load balancer's configuration: the same as docs/operations.md shows for a server, without
    TLS (terminated in front of it there) and on loopback."""
    lines = [
        "global",
        # Two descriptors per connection (client and server side) must fit the limit of this machine.
        "    maxconn 9000",
        f"    stats socket {stats_socket} mode 600 level admin",
        "defaults",
        "    mode http",
        "    option forwardfor",
        "    option redispatch",
        "    retries 3",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        # A websocket is a tunnel once upgraded: its idle limit must exceed the clients' heartbeats.
        "    timeout tunnel 1h",
        "    timeout http-request 10s",
        # A process busy with a reconnect storm may be slow to accept the check: three missed checks,
        # not one, take it out, or an overloaded process would be marked down and everyone get 503.
        "    timeout check 2s",
        "frontend web",
        f"    bind 127.0.0.1:{port}",
        "    default_backend daphne",
        "backend daphne",
        "    balance leastconn",
        "    default-server check inter 1s fall 3 rise 2",
        *(f"    server {name} 127.0.0.1:{server_port}" for name, server_port in servers.items()),
    ]
    return "\n".join(lines) + "\n"


@dataclass
class ProductionShape:
    env: dict
    directory: Path
    processes: int = 3
    port: int = 0
    ports: dict[str, int] = field(default_factory=dict)
    daphnes: dict[str, subprocess.Popen] = field(default_factory=dict)
    haproxy: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"

    def start(self, worker: bool = True) -> ProductionShape:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Behind the load balancer: the client address is the one HAProxy appends (rate limits).
        # Metrics of all processes summed (docs/operations.md, "Metrics"), from an empty directory.
        metrics_dir = self.directory / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        self.env = {
            **self.env,
            "BEHIND_PROXY": "true",
            "PROXY_COUNT": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "METRICS_TOKEN": self.env.get("METRICS_TOKEN") or secrets.token_urlsafe(32),
        }
        self.port = free_port()
        self.ports = {f"daphne{i + 1}": free_port() for i in range(self.processes)}
        try:
            for name in self.ports:
                self.start_process(name)
            config = self.directory / "haproxy.cfg"
            config.write_text(haproxy_config(self.port, self.ports, self.directory / "haproxy.sock"))
            with open(self.directory / "haproxy.log", "ab") as log:
                self.haproxy = subprocess.Popen(
                    [HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
                )
            wait_listening(self.haproxy, self.port, self.directory / "haproxy.log")
            self.wait_up(*self.ports)
            if worker:
                self.worker = start_worker(self.env, self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def start_process(self, name: str) -> None:
        self.daphnes[name] = start_daphne(self.env, self.ports[name], self.log_path)

    def command(self, line: str) -> str:
        """One command on HAProxy's admin socket (the runtime API)."""
        with socket.socket(socket.AF_UNIX) as admin:
            admin.connect(str(self.directory / "haproxy.sock"))
            admin.sendall(line.encode() + b"\n")
            data = b""
            while chunk := admin.recv(65536):
                data += chunk
        return data.decode()

    def set_state(self, name: str, state: str) -> None:
        """``maint`` takes no new connections (existing ones stay), ``ready`` takes them again."""
        self.command(f"set server daphne/{name} state {state}")

    def stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's view of each server process: status (UP/DOWN/MAINT) and scur (connections now)."""
        rows = csv.DictReader(io.StringIO(self.command("show stat").lstrip("# ")))
        return {row["svname"]: row for row in rows if row["pxname"] == "daphne" and row["svname"] in self.ports}

    def wait_up(self, *names: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while any(self.stats()[name]["status"] != "UP" for name in names):
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy does not see {names} up: {self.stats()}")
            time.sleep(0.1)

    def holding_connections(self) -> list[str]:
        """The processes HAProxy has open connections to (the websockets: page loads are short)."""
        return [name for name, row in self.stats().items() if int(row["scur"] or 0) > 0]

    def metrics(self) -> dict[str, float]:
        """/metrics through the load balancer (any process answers for all): each sample's value by
        its name and labels, e.g. ``sprechzimmer_websockets_open{kind="patient"}``."""
        from prometheus_client.parser import text_string_to_metric_families

        request = urllib.request.Request(
            f"{self.url}/metrics", headers={"Authorization": f"Bearer {self.env['METRICS_TOKEN']}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        values = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()) if k != "pid")
                values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return values

    def kill(self, name: str) -> None:
        """A crash: SIGKILL, no chance to close anything."""
        self.daphnes[name].send_signal(signal.SIGKILL)
        self.daphnes[name].wait(10)

    def restart(self, name: str) -> None:
        """A release's restart of one process: SIGTERM, wait for it to end, start it again."""
        self.daphnes[name].terminate()
        self.daphnes[name].wait(30)
        self.start_process(name)
        self.wait_up(name)

    def stop(self) -> None:
        for process in [self.haproxy, self.worker, *self.daphnes.values()]:
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()


def main() -> None:
    """scripts/production-shape: the shape on this machine's PostgreSQL and Redis, with demo data."""
    import tempfile

    from tests.browser.conftest import _create_pg_database, _drop_pg_database, instance_env, set_up_instance

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    directory = Path(tempfile.mkdtemp(prefix="sz-shape-"))
    env = instance_env(
        directory,
        os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        DATABASE_URL=_create_pg_database(base),
        REDIS_URL=redis_url,
        TASKS_QUEUE=f"sz-shape-{secrets.token_hex(4)}",
    )
    set_up_instance(env)
    shape = ProductionShape(env, directory).start()
    print(f"HAProxy: {shape.url}  (Daphne: {', '.join(f'{n} :{p}' for n, p in shape.ports.items())})")
    print(f"Datenbank: {env['DATABASE_URL']}  Redis: {redis_url}  Protokolle: {directory}")
    print(f"Metriken: curl -H 'Authorization: Bearer {shape.env['METRICS_TOKEN']}' {shape.url}/metrics")
    print("Anmeldung mit den Demo-Zugängen aus der README; Ende mit Strg+C.")
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        shape.stop()
        _drop_pg_database(base, env["DATABASE_URL"])
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
