"""Nothing leaves the machine and nothing is written outside the data directory.

The real web server is run under strace while it starts, indexes a corpus and answers a
question; every connect/sendto it makes must stay on the machine (no DNS look-up at all), and
every file it creates must lie in its data directory (or the model cache the settings name).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.test_web import wait_until_serving

pytestmark = pytest.mark.integration

_INET = re.compile(r'sin6?_addr=inet_(?:addr|pton)\((?:AF_INET6, )?"([^"]+)"')
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_WRITE_OPEN = re.compile(r'open(?:at)?\((?:AT_FDCWD|\d+), "([^"]+)", ([A-Z_|]+)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _loopback(addr: str) -> bool:
    return addr.startswith("127.") or addr in ("::1", "::ffff:127.0.0.1") or addr.startswith("::ffff:127.")


def test_the_server_stays_on_the_machine_and_in_its_data_dir(tmp_path, two_article_corpus):
    strace = shutil.which("strace")
    assert strace, "strace is needed for this test (scripts/test installs it with apt-get)"
    home, data, trace = tmp_path / "home", tmp_path / "data", tmp_path / "trace.txt"
    home.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), ASSISTANT_DATA_DIR=str(data), GRADIO_SERVER_PORT=str(port),
               ASSISTANT_CORPUS_DIR=str(two_article_corpus), PYTHONDONTWRITEBYTECODE="1")
    env.pop("ORT_DISABLE_TELEMETRY", None)  # the product must turn it off by itself
    proc = subprocess.Popen([strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,open,openat",
                             "-o", str(trace), sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(url, proc, 240)
        from gradio_client import Client

        reply = Client(url, verbose=False).predict("How many ethnic Armenians live in Nagorno-Karabakh?",
                                                   [], api_name="/ask")
        assert "120,000" in reply["text"]
        time.sleep(3)  # a telemetry thread would have sent by now
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)

    lines = trace.read_text(errors="replace").splitlines()
    outbound = []
    for line in lines:
        if "connect(" not in line and "sendto(" not in line and "sendmsg(" not in line:
            continue
        if "AF_UNIX" in line or "AF_NETLINK" in line:
            continue
        addr, port_m = _INET.search(line), _PORT.search(line)
        if addr and (not _loopback(addr.group(1)) or (port_m and port_m.group(1) == "53")):
            outbound.append(line)
    assert outbound == [], "outbound attempts:\n" + "\n".join(outbound[:10])
    assert not any("events.data.microsoft" in line for line in lines)

    allowed = [str(data), os.environ["ASSISTANT_MODEL_CACHE_DIR"], "/dev/", "/proc/", "/sys/"]
    written = set()
    for line in lines:
        m = _WRITE_OPEN.search(line)
        if m and any(flag in m.group(2) for flag in ("O_WRONLY", "O_RDWR", "O_CREAT")) \
                and "= -1" not in line:
            path = os.path.normpath(os.path.join(str(ROOT), m.group(1)))
            if not any(path.startswith(a) for a in allowed):
                written.add(path)
    assert written == set(), "written outside the data directory:\n" + "\n".join(sorted(written)[:20])
    assert not any(home.rglob("*")), "files appeared in HOME: " + ", ".join(map(str, home.rglob("*")))
