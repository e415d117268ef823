"""The running web app under abuse: file-route traversal, odd questions over /ask, many users at once."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from urllib.parse import quote, urlparse

import pytest
from test_web import running_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(two_article_corpus, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("secdata")
    with running_app(two_article_corpus, data_dir) as url:
        yield url, data_dir


def _get(url: str, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written (no client-side normalisation of dots or case)."""
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _file_routes(catalog: str) -> list[str]:
    routes = []
    for prefix in ("/gradio_api/file=", "/file=", "/GRADIO_API/FILE=", "/Gradio_Api/File=",
                   "/gradio_api/file/", "/static/", "/assets/"):
        routes += [
            prefix + "/etc/passwd",
            prefix + "../../../../../../etc/passwd",
            prefix + "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
            prefix + "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            prefix + "%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
            prefix + "%2fetc%2fpasswd",
            prefix + "....//....//....//....//etc/passwd",
            prefix + catalog,
            prefix + quote(catalog, safe=""),
        ]
    return routes


def test_file_routes_serve_neither_system_files_nor_the_index(app):
    url, data_dir = app
    catalog = data_dir / "index" / "catalog.sqlite3"
    assert catalog.read_bytes().startswith(b"SQLite format 3")  # the file the routes must not serve
    served = []
    for path in _file_routes(str(catalog)):
        status, body = _get(url, path)
        if b"root:" in body or b"SQLite format 3" in body:
            served.append((path, status))
    assert served == []


_NASTY = ["", "   \n\t ", "x" * 100_000, "\x00\x01\x1b[2J\x7f who?",
          "\u202eمن قاتل في ناغورنو كاراباخ؟", "🇦🇲💥🔥 how many people? 👀", "Сколько армян? 阿塞拜疆？"]


def test_ask_endpoint_answers_odd_questions(app):
    from gradio_client import Client

    url, _ = app
    client = Client(url, verbose=False)
    for question in _NASTY:
        result = client.predict(question, [], api_name="/ask")
        assert isinstance(result, dict) and isinstance(result["text"], str) and result["text"], question[:40]


def test_ask_endpoint_answers_lone_surrogates(app):
    # gradio_client cannot send these (httpx encodes JSON as UTF-8), so speak the HTTP API directly.
    url, _ = app
    u = urlparse(url)
    body = json.dumps({"data": ["\ud800 lone \udfff surrogates?", []]})  # ASCII, escapes kept
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request("POST", "/gradio_api/call/ask", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        event_id = json.loads(resp.read())["event_id"]
    finally:
        conn.close()
    status, stream = _get(url, f"/gradio_api/call/ask/{event_id}")
    events = stream.decode()
    assert status == 200 and "event: complete" in events, events[:500]
    data = json.loads(events.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0])
    assert isinstance(data[0]["text"], str) and data[0]["text"]


_QUESTIONS = ["How many ethnic Armenians live in Nagorno-Karabakh?", "How long is the harbour bridge?",
              "What did Azerbaijan call its operation?", "Who opened the bridge?", "What is the weather?"]


def test_eight_concurrent_users_get_answers_without_errors(app):
    from gradio_client import Client

    url, _ = app
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 20

    def user(n: int):
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001  (every failure is a finding, reported below)
            with lock:
                errors.append(f"user {n} could not connect: {exc!r}")
            return
        for i in range(200):  # bounded even if the clock misbehaves
            if time.monotonic() > stop_at:
                break
            question = _QUESTIONS[(n + i) % len(_QUESTIONS)]
            t = time.perf_counter()
            try:
                result = client.predict(question, [], api_name="/ask")
                ok = isinstance(result, dict) and isinstance(result.get("text"), str) and result["text"]
                problem = None if ok and not result.get("error") else f"bad result {result!r}"[:200]
            except Exception as exc:  # noqa: BLE001
                problem = repr(exc)[:200]
            with lock:
                latencies.append(time.perf_counter() - t)
                if problem:
                    errors.append(f"user {n}: {problem}")

    threads = [threading.Thread(target=user, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a user never finished"
    assert errors == []
    assert len(latencies) >= 8
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    median = statistics.median(latencies)
    print(f"\n8 users, {len(latencies)} questions in ~20 s: median {median * 1000:.0f} ms,"
          f" p95 {p95 * 1000:.0f} ms")
