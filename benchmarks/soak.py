"""Soak the running web app: N concurrent API clients for a bounded time, sampling server RSS.

    .venv/bin/python benchmarks/soak.py --clients 64 --minutes 10

Starts app.py on a free loopback port over the project's corpus (a temp data directory), sends
questions from `--clients` threads (each a fresh mix of seen and never-seen words, and a long
history now and then) until `--minutes` pass, samples the server's resident memory every five
seconds, and prints the RSS after the first minute, the peak and the last, and their ratio.
Traffic goes to 127.0.0.1 only and every loop stops at the deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("how many people when did who said where is the bridge corridor ceasefire refugees "
         "cost mayor council armenians azerbaijan operation lachin goris").split()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def question(rng: random.Random) -> tuple[str, list[dict[str, str]]]:
    words = rng.sample(WORDS, 5) + [f"zq{rng.getrandbits(40):x}" for _ in range(2)]  # new words
    history = []
    if rng.random() < 0.1:
        history = [{"role": "user", "content": "x" * 200_000},
                   {"role": "assistant", "content": "y" * 200_000}] * 20
    return " ".join(words), history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    port = free_port()
    data = tempfile.mkdtemp(prefix="soak-")
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "ASSISTANT_DATA_DIR": data,
           "ASSISTANT_WEB_QUEUE_SIZE": str(args.clients * 2)}
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        from gradio_client import Client

        start = time.time()
        deadline = start + args.minutes * 60
        counts = {"connected": 0, "ok": 0, "failed": 0}
        lock = threading.Lock()

        def client(seed: int) -> None:
            rng = random.Random(seed)
            api = None
            while api is None and time.time() < deadline:
                try:  # 64 clients fetching the API description at once time some out
                    api = Client(url, verbose=False)
                except Exception:  # noqa: BLE001
                    time.sleep(rng.uniform(1, 5))
            with lock:
                counts["connected"] += api is not None
            while api is not None and time.time() < deadline:
                q, history = question(rng)
                try:
                    api.predict(q, history, api_name="/ask")
                    key = "ok"
                except Exception:  # noqa: BLE001  (a busy server is counted, not fatal)
                    key = "failed"
                with lock:
                    counts[key] += 1

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
        for t in threads:
            t.start()
        samples = []
        while time.time() < deadline:
            samples.append((round(time.time() - start), rss_mb(server.pid)))
            time.sleep(5)
        for t in threads:
            t.join(timeout=60)
        after_first_minute = next((m for s, m in samples if s >= 60), samples[0][1])
        peak = max(m for _, m in samples)
        print(json.dumps({"clients": args.clients, "minutes": args.minutes, **counts,
                          "rss_after_1min_mb": round(after_first_minute),
                          "rss_peak_mb": round(peak), "rss_last_mb": round(samples[-1][1]),
                          "peak_over_first_minute": round(peak / after_first_minute, 3)}))
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
