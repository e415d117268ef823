"""The running web app under abuse: file-route traversal, odd questions over /ask (load: test_load.py)."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
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


_HOSTILE_HTML = (b"<!DOCTYPE html><html><body><p>Bridge story.</p>"
                 b"<script>alert(document.cookie)</script></body></html>")
_HOSTILE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


_MARKUP_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml")


def _fetch(url: str, path: str) -> tuple[int, str, str, bytes]:
    """GET `path`: (status, media type, content disposition, body)."""
    import httpx

    resp = httpx.get(url.rstrip("/") + path, timeout=30)
    ctype = resp.headers.get("content-type", "").split(";")[0].strip()
    return resp.status_code, ctype, resp.headers.get("content-disposition", ""), resp.content


def test_uploaded_html_and_svg_are_never_served_back_as_markup(app):
    """Neither our uploads folder nor Gradio's upload cache hands an HTML/SVG file back to render."""
    import httpx

    url, data_dir = app
    uploads = data_dir / "uploads"
    stored = [uploads / "hostile.html", uploads / "hostile.svg"]
    stored[0].write_bytes(_HOSTILE_HTML)
    stored[1].write_bytes(_HOSTILE_SVG)
    try:
        cached = []
        for name, body in (("hostile.html", _HOSTILE_HTML), ("hostile.svg", _HOSTILE_SVG)):
            resp = httpx.post(url.rstrip("/") + "/gradio_api/upload", files={"files": (name, body)},
                              timeout=30)
            assert resp.status_code == 200, resp.text  # anyone may put a file in Gradio's cache ...
            cached += resp.json()
        assert len(cached) == 2
        seen, rendered = [], []
        for path in [str(p) for p in stored] + cached:
            for route in ("/gradio_api/file=", "/file=", "/gradio_api/file/"):
                status, ctype, disposition, body = _fetch(url, route + path)
                seen.append((route + path, status, ctype, disposition.split(";")[0]))
                if status == 200 and b"<script>" in body and (
                        ctype in _MARKUP_TYPES or not disposition.startswith("attachment")):
                    rendered.append(seen[-1])
        print("\n" + "\n".join(map(str, seen)))
        assert rendered == []  # ... but it never comes back as a page (or image) of our origin
        # The cached copies are reachable, so the check above looked at real responses: downloads.
        for path in cached:
            download = (200, "application/octet-stream", f'attachment; filename="{Path(path).name}"')
            assert _fetch(url, "/gradio_api/file=" + path)[:3] == download
    finally:
        for p in stored:
            p.unlink()


def test_one_upload_request_carries_one_articles_worth_of_bytes(app):
    """Gradio takes up to 1,000 files of 5 MB in one request; the app refuses more than one
    article's worth before reading it, and an ordinary upload still goes through."""
    import httpx

    url, _ = app
    part = b"word " * 600_000  # 3 MB each: each under the limit, together over it
    files = [("files", (f"f{i}.txt", part)) for i in range(3)]
    resp = httpx.post(url.rstrip("/") + "/gradio_api/upload", files=files, timeout=60)
    assert resp.status_code == 413, (resp.status_code, resp.text[:200])
    ok = httpx.post(url.rstrip("/") + "/gradio_api/upload",
                    files={"files": ("small.txt", b"Title\n\nA short article.")}, timeout=60)
    assert ok.status_code == 200, ok.text[:200]


def test_gradio_refuses_uploads_over_the_size_limit(app):
    import httpx

    from assistant.web import MAX_UPLOAD_MB

    url, _ = app
    big = b"word " * ((MAX_UPLOAD_MB + 1) * 1_000_000 // 5)  # Gradio's "5mb" is 5 MiB: go past it
    resp = httpx.post(url.rstrip("/") + "/gradio_api/upload", files={"files": ("big.txt", big)}, timeout=60)
    assert resp.status_code == 413 and ("maximum allowed size" in resp.text
                                        or "per upload" in resp.text), (resp.status_code,
                                                                              resp.text[:200])
