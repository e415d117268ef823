"""The running web app under load: 16 API users for a minute, then a flood beyond a small queue."""

from __future__ import annotations

import http.client
import json
import re
import statistics
import threading
import time
from collections import Counter, defaultdict
from urllib.parse import urlparse

import pytest
from test_web import running_app

pytestmark = pytest.mark.integration

USERS = 16
SECONDS = 60
QUESTIONS = ["How many ethnic Armenians live in Nagorno-Karabakh?", "How long is the harbour bridge?",
             "What did Azerbaijan call its operation?", "Who opened the bridge?", "What is the weather?"]
# What gradio_client raises (QueueError) when the server answers 503 "Queue is full".
CLIENT_BUSY = "Queue is full! Please try again."
QUEUE_SIZE, CONCURRENCY = 2, 1  # the small queue the "busy" tests flood


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def test_sixteen_users_asking_for_a_minute_get_answers_without_errors(two_article_corpus, tmp_path):
    """The shipped queue (32 waiting, 2 at once): every question of every user is answered."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    answers: dict[str, set[str]] = defaultdict(set)
    per_user: Counter[int] = Counter()
    lock = threading.Lock()

    with running_app(two_article_corpus, tmp_path) as url:
        stop_at = time.monotonic() + SECONDS

        def user(n: int):
            try:
                client = Client(url, verbose=False)
            except Exception as exc:  # noqa: BLE001  (every failure is a finding, reported below)
                with lock:
                    errors.append(f"user {n} could not connect: {exc!r}")
                return
            for i in range(10_000):  # bounded even if the clock misbehaves
                if time.monotonic() > stop_at:
                    break
                question = QUESTIONS[(n + i) % len(QUESTIONS)]
                t = time.perf_counter()
                try:
                    result = client.predict(question, [], api_name="/ask")
                    ok = isinstance(result, dict) and isinstance(result.get("text"), str) and result["text"]
                    problem = None if ok and not result.get("error") else f"bad result {result!r}"[:200]
                except Exception as exc:  # noqa: BLE001
                    problem = repr(exc)[:200]
                with lock:
                    latencies.append(time.perf_counter() - t)
                    per_user[n] += 1
                    if problem:
                        errors.append(f"user {n}: {problem}")
                    else:
                        answers[question].add(result["text"])

        threads = [threading.Thread(target=user, args=(n,)) for n in range(USERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 120)
        assert not any(t.is_alive() for t in threads), "a user never finished"

    median, p95 = statistics.median(latencies), _p95(latencies)
    print(f"\n{USERS} users, {len(latencies)} questions in {SECONDS} s: median {median * 1000:.0f} ms,"
          f" p95 {p95 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms,"
          f" {len(latencies) / SECONDS:.1f} questions/s; fewest per user {min(per_user.values())}")
    assert errors == []
    assert sorted(per_user) == list(range(USERS)) and min(per_user.values()) >= 3  # nobody starved
    # Under load each question still gets the one answer it gets alone: no state leaks between users.
    assert {q: len(texts) for q, texts in answers.items()} == {q: 1 for q in QUESTIONS}


def _post_ask(url: str, question: str) -> tuple[int, bytes]:
    """POST /gradio_api/call/ask as curl would: (status, body); 200 carries the event id."""
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request("POST", "/gradio_api/call/ask", json.dumps({"data": [question, []]}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _result(url: str, event_id: str) -> str:
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    try:
        conn.request("GET", f"/gradio_api/call/ask/{event_id}")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def small_queue_app(two_article_corpus, tmp_path_factory):
    """app.py answering one question at a time with room for only QUEUE_SIZE more to wait."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASSISTANT_WEB_QUEUE_SIZE", str(QUEUE_SIZE))
        mp.setenv("ASSISTANT_WEB_CONCURRENCY", str(CONCURRENCY))
        with running_app(two_article_corpus, tmp_path_factory.mktemp("smallqueue")) as url:
            yield url


def test_beyond_the_queue_callers_are_told_busy_and_the_server_recovers(small_queue_app):
    from gradio_client import Client
    from gradio_client.utils import QueueError

    url, queue_size, concurrency, flood = small_queue_app, QUEUE_SIZE, CONCURRENCY, 24
    # 1. gradio_client callers, all asking at the same instant.
    clients = [Client(url, verbose=False) for _ in range(flood)]
    start = threading.Barrier(flood)
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def caller(client):
        start.wait(timeout=60)
        try:
            result = client.predict(QUESTIONS[0], [], api_name="/ask")
            outcome = ("answered", "") if result.get("text") and not result.get("error") \
                else ("bad", repr(result)[:200])
        except QueueError as exc:
            outcome = ("busy", str(exc))
        except Exception as exc:  # noqa: BLE001  (anything else is a finding)
            outcome = ("error", repr(exc)[:300])
        with lock:
            outcomes.append(outcome)

    _run_all([threading.Thread(target=caller, args=(c,)) for c in clients], timeout=180)
    kinds = Counter(kind for kind, _ in outcomes)
    print(f"\nqueue {queue_size}, {concurrency} at once, {flood} simultaneous gradio_client callers: "
          f"{dict(kinds)}; busy callers were told {sorted({m for k, m in outcomes if k == 'busy'})}")
    assert len(outcomes) == flood and set(kinds) <= {"answered", "busy"}, outcomes
    assert kinds["busy"] >= 1  # the flood really went beyond the queue
    assert kinds["answered"] >= queue_size + concurrency  # those admitted were all answered
    assert {m for k, m in outcomes if k == "busy"} == {CLIENT_BUSY}

    # 2. Plain HTTP callers (curl, scripts): HTTP 503 with a one-line JSON reason, no traceback.
    posts: list[tuple[int, bytes]] = []
    burst = threading.Barrier(flood)

    def poster():
        burst.wait(timeout=60)
        got = _post_ask(url, QUESTIONS[1])
        with lock:
            posts.append(got)

    _run_all([threading.Thread(target=poster) for _ in range(flood)], timeout=120)
    statuses = Counter(status for status, _ in posts)
    print(f"{flood} simultaneous HTTP posts: {dict(statuses)}; 503 body "
          f"{next((b.decode() for s, b in posts if s == 503), None)}")
    assert set(statuses) <= {200, 503} and statuses[503] >= 1, posts
    for status, body in posts:
        if status == 503:
            # Size can read above the maximum: pushes racing past the check are still taken.
            assert re.fullmatch(rf"Queue is full\. Max size is {queue_size} and size is \d+\.",
                                json.loads(body)["detail"]), body
    for status, body in posts:  # every admitted request completes with an answer
        if status == 200:
            events = _result(url, json.loads(body)["event_id"])
            assert "event: complete" in events and "Traceback" not in events, events[:500]

    # 3. Recovered: a newcomer is answered as if nothing had happened.
    answer = Client(url, verbose=False).predict(QUESTIONS[0], [], api_name="/ask")
    assert answer["citations"] and not answer["abstained"] and not answer["error"]


def test_web_chat_user_beyond_the_queue_sees_busy_then_gets_answers(small_queue_app):
    """In the browser the same 503 becomes Gradio's "currently busy" notice; once the flood ends, the
    next question is answered."""
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    url, stop, tried = small_queue_app, threading.Event(), []

    def flood():  # keeps the queue full: re-asks as soon as an answer arrives or a slot is refused
        while not stop.is_set():
            status, body = _post_ask(url, QUESTIONS[1])
            if status == 200:
                _result(url, json.loads(body)["event_id"])

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url, wait_until="load")
            box = page.locator('#qa-question textarea[data-testid="textbox"]')
            box.wait_for(state="visible", timeout=30_000)
            busy = page.locator('[data-testid="toast-body"]', has_text="busy")
            threads = [threading.Thread(target=flood) for _ in range(3 * (QUEUE_SIZE + CONCURRENCY))]
            for t in threads:
                t.start()
            try:
                for _ in range(10):  # the queue may have a free slot at the instant the browser asks
                    bots = page.locator('[data-testid="bot"]').count()
                    tried.append(bots)
                    box.fill(QUESTIONS[0])
                    box.press("Enter")
                    page.wait_for_function(
                        f"document.querySelectorAll('[data-testid=\"bot\"]').length > {bots} || "
                        "[...document.querySelectorAll('[data-testid=\"toast-body\"]')]"
                        ".some(t => t.innerText.includes('busy'))", timeout=30_000)
                    if busy.count():
                        break
            finally:
                stop.set()
                for t in threads:
                    t.join(timeout=120)
            notice = busy.first.inner_text() if busy.count() else ""
            print(f"\nweb chat: busy notice after {len(tried)} question(s): {notice!r}")
            assert "This application is currently busy. Please try again." in notice
            assert "Traceback" not in page.content()
            bots = page.locator('[data-testid="bot"]').count()
            box.fill(QUESTIONS[0])
            box.press("Enter")
            try:  # the reply may stream in: wait for the figure, not just for a bot message
                page.wait_for_function(
                    f"(document.querySelectorAll('[data-testid=\"bot\"]')[{bots}]?.innerText || '')"
                    ".includes('120,000')", timeout=30_000)
            except Exception:  # noqa: BLE001  (report what the chat showed instead)
                chat = page.locator("#qa-chat").inner_text()
                pytest.fail(f"no answer after the flood; the chat shows {chat!r}")
        finally:
            browser.close()


def _run_all(threads: list[threading.Thread], *, timeout: float) -> None:
    """Start every thread, then wait for each (bounded, so a stuck caller cannot hang the suite)."""
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
