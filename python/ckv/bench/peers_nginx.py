"""nginx in front of the peers' Python server (``ckv bench --workload peers``): the archives and
their sidecars are files nginx sends itself (``sendfile``), and it answers 404 itself for the
monthly archives below ``/daily-only/`` (logging each path); everything else (the S3 listing,
REST, the index page, and any other path it does not have) goes to the Python server behind it.

Python's ``ThreadingHTTPServer`` costs about a millisecond of CPU per request on the same two
cores the implementations run on; with 365 archives and their sidecars that server, not the
implementation, would be much of what is timed. nginx is used when it is on ``PATH`` (Debian:
``apt install nginx``); without it the Python server answers alone and the report says so.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Front", "nginx_path", "serve_static"]

START_TIMEOUT_S = 10.0

_CONF = """
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  log_format uri '$uri';
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  default_type application/octet-stream;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=1024;
    location /data/ {{
      root {www};
      try_files $uri @backend;
    }}
    location /daily-only/data/spot/daily/ {{
      alias {www}/data/spot/daily/;
      try_files $uri @backend;
    }}
    location /daily-only/data/spot/monthly/ {{
      access_log {tmp}/misses.log uri;
      return 404;
    }}
    location / {{
      proxy_pass {backend};
    }}
    location @backend {{
      proxy_pass {backend};
    }}
  }}
}}
"""


def nginx_path() -> str | None:
    """The nginx executable, if one is on ``PATH`` (or in /usr/sbin, where Debian puts it)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_files(routes: dict[str, bytes], www: Path) -> None:
    for path, body in routes.items():
        if not path.startswith("/data/"):
            continue
        target = www / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}: {_text(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nginx did not listen on 127.0.0.1:{port} in {START_TIMEOUT_S} s")


def _text(log: Path) -> str:
    try:
        return log.read_text()[-600:]
    except OSError:
        return "(no log)"


@dataclass(frozen=True)
class Front:
    """The running nginx: its root URL, and the 404s it answered itself."""

    root: str
    log: Path

    def misses(self) -> list[str]:
        """The paths nginx answered 404 for so far, in order."""
        try:
            return self.log.read_text().split()
        except FileNotFoundError:
            return []


@contextmanager
def serve_static(nginx: str, routes: dict[str, bytes], backend: str) -> Iterator[Front]:
    """nginx on a free loopback port for the ``with`` block, serving the ``/data/…`` bodies of
    ``routes`` as files, answering 404 for ``/daily-only/`` monthly archives, and passing
    every other request to ``backend``."""
    with tempfile.TemporaryDirectory(prefix="ckv-bench-nginx-") as tmp_dir:
        tmp = Path(tmp_dir)
        www = tmp / "www"
        _write_files(routes, www)
        port = _free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(_CONF.format(tmp=tmp, port=port, www=www, backend=backend))
        log = tmp / "error.log"
        proc = subprocess.Popen(
            [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_listening(port, proc, log)
            yield Front(f"http://127.0.0.1:{port}", tmp / "misses.log")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
