"""A real `exportctl serve` in a child process on a free loopback port, for the tests, the
screenshot script and the load benchmark (they exercise the server as it is started)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Base(str):
    """The server's base URL, carrying its process id (the load benchmark reads its memory)."""

    pid: int = 0


@contextlib.contextmanager
def running(*args: str, env: dict | None = None, wait: float = 60.0):
    """Yield the base URL of a server started with `exportctl serve ARGS`; stop it after."""
    port = free_port()
    cmd = [sys.executable, "-c", "import sys; from exportctl.cli import main; sys.exit(main())",
           "serve", "--port", str(port), "--log-level", "warning", *args]
    log = tempfile.TemporaryFile(mode="w+")     # a pipe nobody reads could fill and stall the server
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=log, stderr=log, text=True)
    base = Base(f"http://127.0.0.1:{port}")
    base.pid = proc.pid
    try:
        deadline = time.monotonic() + wait
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"exportctl serve exited {proc.returncode}: {log.read()}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("exportctl serve did not answer /healthz in time")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


CHROMIUM = "/usr/bin/chromium"      # Debian's package; never a downloaded browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium(playwright, **context):
    """A headless Chromium context with a fresh profile folder, removed after."""
    with tempfile.TemporaryDirectory(prefix="exportctl-chromium-") as profile:
        ctx = playwright.chromium.launch_persistent_context(profile, executable_path=CHROMIUM,
                                                            args=CHROMIUM_ARGS, headless=True, **context)
        try:
            yield ctx
        finally:
            ctx.close()
