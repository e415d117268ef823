"""Take the README's screenshots: the real app.py server over the project's corpus, one question
asked in Debian's Chromium at desktop size, phone size and in the dark theme.

    .venv/bin/python scripts/screenshots.py [--out docs]

Writes web-desktop.png, web-phone.png and web-dark.png. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTION = "How many ethnic Armenians live in Nagorno-Karabakh?"
SHOTS = [("web-desktop.png", {"width": 1280, "height": 800}, False),
         ("web-phone.png", {"width": 390, "height": 844}, False),
         ("web-dark.png", {"width": 1280, "height": 800}, True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "ASSISTANT_CORPUS_DIR": str(ROOT / "corpus"),
           "ASSISTANT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("app.py exited before it served")
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("app.py did not answer within 300 s")


def _local_only(route):
    if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def shoot(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for name, viewport, dark in SHOTS:
            context = browser.new_context(viewport=viewport)
            context.route("**/*", _local_only)
            page = context.new_page()
            page.goto(url + ("?__theme=dark" if dark else ""), wait_until="load")
            page.locator(".qa-suggestion").first.wait_for(state="visible", timeout=120_000)
            box = page.locator('#qa-question textarea[data-testid="textbox"]')
            box.fill(QUESTION)
            box.press("Enter")
            page.wait_for_function("document.querySelectorAll('[data-testid=\"bot\"]').length > 0",
                                   timeout=120_000)
            page.locator('#qa-sources [data-target="qa-mark-1"]').click()
            if viewport["width"] < 600:  # on a phone, show the chat's answer, as a reader first sees it
                page.locator('[data-testid="bot"]').first.scroll_into_view_if_needed()
            else:  # the click centred the sentence in its box; show the page from its top
                page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(800)
            path = out / name
            page.screenshot(path=str(path))
            written.append(path)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        proc, url = _serve(Path(data))
        try:
            for path in shoot(url, args.out):
                print(path)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
