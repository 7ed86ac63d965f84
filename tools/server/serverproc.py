"""Starts `phi4 serve` for the scripts here (loopback, free port; the openai client test's `Server` builds on it);
streamclient.py reads its /metrics and memory."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PhiServe:
    """`phi4 serve` in a child process while the `with` block runs; stopped with SIGTERM (`exit_code` after)."""

    def __init__(self, phi4: str, model: str, *extra: str):
        self.port = free_port()
        self.args = [phi4, "serve", "--model", model, "--port", str(self.port), *extra]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        # The server's output goes to a file, not a pipe nobody drains (a full pipe would stall the server).
        self.log = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("phi4 serve exited: " + self.output())
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except Exception:  # noqa: BLE001 - loading
                time.sleep(0.3)
        raise RuntimeError("phi4 serve did not become healthy")

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.exit_code = "killed"
        self.log.close()

    def output(self) -> str:
        """What the server has printed so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def post(self, path: str, body: dict, timeout: float = 120) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
