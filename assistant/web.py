"""The Gradio web chat: a thin layer that asks the Assistant and shows its Answer with its sources."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import web_assets
from .answering.verify import StreamCleaner
from .assistant import Assistant
from .documents import SUPPORTED_SUFFIXES, BadFile, load_file
from .errors import AssistantError
from .removal import confirmation
from .settings import Settings
from .suggestions import suggest
from .types import Answer, Document
from .web_render import (  # noqa: F401  (escape and render_answer are part of this module's API)
    escape,
    limit_citations,
    render_answer,
    render_partial,
    render_sources,
    render_welcome,
)

# Offline: no analytics, no hub look-ups. Must be set before gradio is imported.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ALL = "__all__"
# What the picker offers; the library also reads the variants (.htm, .markdown).
UPLOAD_TYPES = [".txt", ".md", ".html", ".pdf"]
MAX_UPLOAD_MB = 5
N_SUGGESTIONS = 4

# Runs inside the sources panel only: one click on [n] scrolls the article to its <mark>.
PANEL_JS = """
function show(mark, flash) {
  const box = element.querySelector('.qa-articles');
  if (!box || !mark) return;
  element.querySelectorAll('mark.qa-active').forEach(m => m.classList.remove('qa-active'));
  if (flash) {  // a click: centre it in the box and in the window (on a phone the panel is below)
    mark.classList.add('qa-active');
    mark.scrollIntoView({block: 'center', inline: 'nearest'});
    return;
  }
  const offset = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop += offset - box.clientHeight / 3;
}
element.addEventListener('click', (event) => {
  const link = event.target.closest('[data-target]');
  if (!link) return;
  show(element.querySelector('#' + CSS.escape(link.dataset.target)), true);
});
watch('value', () => show(element.querySelector('mark.qa-mark'), false));
"""

CSS = """
.qa-panel { font-size: 0.95rem; }
.qa-heading { font-size: 1.05rem; margin: 0 0 .4rem; }
.qa-cites { padding-left: 0; list-style: none; margin: 0 0 .6rem; }
.qa-cite { margin-bottom: .4rem; }
.qa-cite-link { font-weight: 600; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0 .4rem; cursor: pointer; background: var(--button-secondary-background-fill); }
.qa-cite-title { font-weight: 600; }
.qa-quote { margin: .2rem 0 0 .4rem; padding-left: .6rem; border-left: 3px solid #f5c542; }
.qa-articles { max-height: 52vh; overflow-y: auto; border: 1px solid var(--border-color-primary);
  border-radius: 8px; padding: .6rem .9rem; scroll-behavior: auto; }
.qa-article + .qa-article { border-top: 1px dashed var(--border-color-primary); margin-top: .8rem; }
.qa-article-title { font-size: 1rem; margin: .2rem 0 .5rem; }
.qa-article-text p { margin: 0 0 .6rem; line-height: 1.5; }
mark.qa-mark { background: #fde68a; color: #1c1917; padding: 0 .1rem; border-radius: 3px; }
mark.qa-active { background: #fbbf24; color: #1c1917; outline: 2px solid #b45309; }
.qa-sup { font-weight: 600; margin-left: .1rem; }
.qa-meta { color: var(--body-text-color-subdued); }
"""


def default_assistant(settings: Settings | None = None) -> tuple[Assistant, Path]:
    """The app's Assistant over the corpus folder plus an uploads folder that re-ingest keeps."""
    bot = Assistant(settings=settings or Settings.load())
    return bot, bot.uploads


def add_article(bot: Assistant, upload: Path, upload_dir: Path, *, original_name: str | None = None,
                max_bytes: int = MAX_UPLOAD_MB * 1_000_000) -> tuple[str, Document | None]:
    """Check, store and ingest one uploaded file: (one-line message, the new Document or None)."""
    name = _safe_name(original_name or upload.name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return (f"Could not add {name}: only article files "
                f"({', '.join(UPLOAD_TYPES)}) can be added."), None
    size = upload.stat().st_size
    if size > max_bytes:
        return (f"Could not add {name}: it is {size / 1e6:.1f} MB; the limit is "
                f"{max_bytes / 1e6:.0f} MB."), None
    try:
        doc = load_file(upload, max_bytes=max_bytes)
    except BadFile as exc:
        return f"Could not add {name}: {exc}.", None
    known = {d.doc_id: d for d in bot.documents()}
    if doc.doc_id in known:
        return f"{name} is already here, as \u201c{known[doc.doc_id].title}\u201d.", known[doc.doc_id]
    upload_dir.mkdir(parents=True, exist_ok=True)
    target = _free_path(upload_dir / name)
    shutil.copyfile(upload, target)
    try:
        report = bot.ingest(progress=False, only=[upload_dir])
    except AssistantError as exc:
        target.unlink(missing_ok=True)
        return f"Could not add {name}: {exc}", None
    added = {d.doc_id: d for d in bot.documents()}.get(doc.doc_id)
    if added is None:
        target.unlink(missing_ok=True)
        reasons = [s.reason for s in report.skipped if Path(s.path) == target]
        return f"Could not add {name}: {reasons[0] if reasons else 'the index did not take it'}.", None
    return (f"Added \u201c{added.title}\u201d ({len(added.sentences)} sentences); "
            "it is selected below, ask away."), added


def _safe_name(name: str) -> str:
    stem, suffix = os.path.splitext(os.path.basename(name))
    stem = re.sub(r"[^\w.-]+", "-", stem).strip(".-")[:80] or "article"
    return stem + re.sub(r"[^\w.]", "", suffix)[:10]


def _free_path(path: Path) -> Path:
    n = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


class Suggestions:
    """Suggested questions per article, kept only if the library answers them from that article."""

    def __init__(self, bot: Assistant):
        self.bot = bot
        self.by_doc: dict[str, list[str]] = {}

    def for_doc(self, doc: Document) -> list[str]:
        if doc.doc_id not in self.by_doc:
            def answerable(q: str) -> bool:
                answer = self.bot.ask(q, doc_ids=[doc.doc_id], use_llm=False)
                return not answer.abstained and any(c.doc_id == doc.doc_id for c in answer.citations)

            self.by_doc[doc.doc_id] = suggest(doc, N_SUGGESTIONS, answerable)
        return self.by_doc[doc.doc_id]

    def for_view(self, doc_id: str) -> list[str]:
        """Questions for the article in view, or a few from each article when all are in view."""
        docs = {d.doc_id: d for d in self.bot.documents()}
        if doc_id in docs:
            return self.for_doc(docs[doc_id])
        # Suggestions cost a few asks per article: sample the first articles, not all of them.
        per_doc = [self.for_doc(d) for d in list(docs.values())[:N_SUGGESTIONS]]
        mixed = [q for i in range(N_SUGGESTIONS) for qs in per_doc if i < len(qs) for q in [qs[i]]]
        return mixed[:N_SUGGESTIONS]

    def all(self, limit: int = 8) -> dict[str, list[str]]:
        return {d.doc_id: self.for_doc(d) for d in self.bot.documents()[:limit]}


def build_app(bot: Assistant, upload_dir: Path | None = None, *, queue_size: int = 32,
              concurrency: int = 2):
    """The chat, the sources panel, the article picker, uploads (if `upload_dir`) and /ask.

    `concurrency` questions are answered at once; up to `queue_size` more wait their turn, and
    beyond that callers are told at once that the app is busy (HTTP 503, "Queue is full").
    """
    import gradio as gr

    suggestions = Suggestions(bot)
    max_sources = bot.settings.max_citations

    def docs() -> dict[str, Document]:
        return {d.doc_id: d for d in bot.documents()}

    def picker_choices() -> list[tuple[str, str]]:
        return [("All articles", ALL)] + [(d.title, d.doc_id) for d in bot.documents()]

    def view(doc_id: str) -> str:
        known = docs()
        return render_welcome(list(known.values()), known.get(doc_id))

    def suggestion_updates(doc_id: str) -> list[Any]:
        qs = suggestions.for_view(doc_id)
        return [gr.update(value=qs[i], visible=True) if i < len(qs) else gr.update(visible=False)
                for i in range(N_SUGGESTIONS)]

    def ask(question: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Answer a question about the articles; returns Answer.to_dict()."""
        return bot.ask(question, history=history).to_dict()

    def take_question(question: str, chat: list[dict[str, Any]]):
        """Show the question at once; the answer follows in the next step."""
        question = (question or "").strip()
        if not question:
            return "", chat, ""
        return "", [*chat, {"role": "user", "content": escape(question)}], question

    def answer(question: str, chat: list, convo: list, doc_id: str, n_sources: float):
        """Stream the LLM's words as they come (LLM mode), then show the verified Answer."""
        if not question:
            yield chat, convo, gr.update()
            return
        partial, reply, cleaner = "", None, StreamCleaner()
        for event in bot.stream(question, history=convo,
                                doc_ids=None if doc_id in (ALL, None) else [doc_id]):
            if isinstance(event, Answer):
                reply = event
                break
            partial += cleaner.feed(event)
            yield [*chat, {"role": "assistant", "content": render_partial(partial)}], convo, gr.update()
        reply = limit_citations(reply, int(n_sources or max_sources))
        chat = [*chat, {"role": "assistant", "content": render_answer(reply)}]
        convo = [*convo, {"role": "user", "content": question},
                 {"role": "assistant", "content": reply.text}]
        yield chat, convo, render_sources(reply, docs(), suggestions.all() if reply.abstained else None)

    def clear(doc_id: str):
        return [], [], "", view(doc_id)

    def pick(doc_id: str):
        return [view(doc_id), *suggestion_updates(doc_id)]

    def upload(file: str | None, progress=gr.Progress()):  # noqa: B008  (how Gradio finds it)
        unchanged = [gr.update()] * (3 + N_SUGGESTIONS)
        if not file:
            return ["", *unchanged]
        progress(0.2, desc="Checking the file")
        path = Path(file)
        progress(0.5, desc="Indexing the article")
        try:
            message, doc = add_article(bot, path, upload_dir, original_name=path.name)
        finally:
            path.unlink(missing_ok=True)  # Gradio's copy; the article, if kept, is in upload_dir
        if doc is None:
            return [message, None, *unchanged[1:]]
        progress(0.9, desc="Suggesting questions")
        return [message, None, gr.update(choices=picker_choices(), value=doc.doc_id),
                view(doc.doc_id), *suggestion_updates(doc.doc_id)]

    # Files Gradio keeps (uploads, cached outputs) older than ten minutes go every ten minutes.
    with gr.Blocks(title="Article Q&A", analytics_enabled=False, delete_cache=(600, 600)) as demo:
        gr.Markdown("### Article Q&A\n" + (
            f"Answers are written by {escape(bot.settings.llm_model)}; every citation is checked "
            "against its sentence, and the articles are quoted instead when a claim cannot be."
            if bot.llm is not None else
            "Answers quote and cite the sentences of the articles; when the articles do not say, "
            "it says so."), elem_id="qa-intro")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                picker = gr.Dropdown(picker_choices(), value=ALL, label="Ask about",
                                     elem_id="qa-picker", interactive=True)
                removal = removal_controls(gr)
                chatbot = gr.Chatbot(sanitize_html=True, render_markdown=True, height=420,
                                     elem_id="qa-chat", label="Chat", feedback_options=None,
                                     autoscroll=False)  # web_assets scrolls to an answer's start
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question about the articles",
                                     show_label=False, scale=6, elem_id="qa-question",
                                     max_length=bot.settings.max_question_chars)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-send")
                    clear_btn = gr.Button("Clear chat", scale=1, elem_id="qa-clear")
                gr.Markdown("**Try asking**")
                with gr.Row():
                    first = suggestions.for_view(ALL)
                    buttons = [gr.Button(first[i] if i < len(first) else "", size="sm",
                                         visible=i < len(first), elem_classes=["qa-suggestion"])
                               for i in range(N_SUGGESTIONS)]
                with gr.Accordion("Settings", open=False):
                    n_sources = gr.Slider(1, max_sources, value=max_sources, step=1,
                                          label="Number of sources", elem_id="qa-n-sources",
                                          info="How many cited sentences an answer may show.")
                with gr.Accordion("Add an article", open=False, visible=upload_dir is not None):
                    file = gr.File(file_types=UPLOAD_TYPES, file_count="single", type="filepath",
                                   label=f"Article file ({', '.join(UPLOAD_TYPES)}, up to "
                                         f"{MAX_UPLOAD_MB} MB)", elem_id="qa-upload")
                    status = gr.Markdown(elem_id="qa-upload-status")
            with gr.Column(scale=4):
                panel = gr.HTML(view(ALL), js_on_load=PANEL_JS, elem_id="qa-sources")
        convo = gr.State([])
        pending = gr.State("")

        private = {"api_visibility": "private"}
        for trigger in (box.submit, send.click):
            trigger(take_question, [box, chatbot], [box, chatbot, pending], queue=False, **private
                    ).then(answer, [pending, chatbot, convo, picker, n_sources],
                           [chatbot, convo, panel], **private)
        for b in buttons:
            b.click(take_question, [b, chatbot], [box, chatbot, pending], queue=False, **private
                    ).then(answer, [pending, chatbot, convo, picker, n_sources],
                           [chatbot, convo, panel], **private)
        clear_btn.click(clear, [picker], [chatbot, convo, pending, panel], queue=False, **private)
        # The chat's own trash icon empties the messages; what the assistant remembers goes too.
        chatbot.clear(clear, [picker], [chatbot, convo, pending, panel], queue=False, **private)
        picker.change(pick, [picker], [panel, *buttons], **private)
        wire_removal(gr, removal, bot, picker, picker_choices, **private)
        if upload_dir is not None:
            file.upload(upload, [file], [status, file, picker, panel, *buttons],
                        concurrency_limit=1, concurrency_id="ingest", **private)
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    return demo


@dataclass
class RemovalControls:
    """"Remove this article" beside the picker, and the confirmation it asks for first."""

    button: Any
    confirm: Any  # the row holding the question and its two answers, hidden until asked
    question: Any
    yes: Any
    cancel: Any
    status: Any
    target: Any  # the article the question was about (a later pick must not change it)


def removal_controls(gr) -> RemovalControls:
    button = gr.Button("Remove this article", size="sm", variant="secondary", visible=False,
                       elem_id="qa-remove")
    with gr.Row(visible=False, elem_id="qa-remove-confirm") as confirm:
        question = gr.Markdown(elem_id="qa-remove-question")
        yes = gr.Button("Yes, remove it", size="sm", variant="stop", elem_id="qa-remove-yes")
        cancel = gr.Button("Cancel", size="sm", elem_id="qa-remove-cancel")
    status = gr.Markdown(elem_id="qa-remove-status")
    return RemovalControls(button, confirm, question, yes, cancel, status, gr.State(None))


def wire_removal(gr, c: RemovalControls, bot: Assistant, picker, picker_choices, **events) -> None:
    """Shown while one article is picked; asks first, then removes it through the library."""
    def offer(doc_id: str):
        return gr.update(visible=doc_id not in (ALL, None)), gr.update(visible=False), None

    def ask_first(doc_id: str):
        doc = {d.doc_id: d for d in bot.documents()}.get(doc_id)
        if doc is None:
            return gr.update(visible=False), None, "", "That article is no longer in the index."
        return (gr.update(visible=True), doc_id, escape(confirmation(doc, bot.settings.uploads_path)),
                "")

    def remove(doc_id: str | None):
        try:
            message = bot.remove(doc_id or "").summary()
        except AssistantError as exc:
            return gr.update(visible=False), None, gr.update(), escape(f"Nothing was removed: {exc}")
        return (gr.update(visible=False), None, gr.update(choices=picker_choices(), value=ALL),
                escape(message))

    picker.change(offer, [picker], [c.button, c.confirm, c.target], **events)
    c.button.click(ask_first, [picker], [c.confirm, c.target, c.question, c.status], **events)
    c.yes.click(remove, [c.target], [c.confirm, c.target, picker, c.status], concurrency_limit=1,
                concurrency_id="ingest", **events)
    c.cancel.click(lambda: (gr.update(visible=False), None, "Nothing was removed."), None,
                   [c.confirm, c.target, c.status], **events)


class UploadLimit:
    """ASGI middleware: an upload request carries at most one article's worth of bytes.

    Gradio checks each file against max_file_size but takes up to 1,000 files in one request;
    a request over `max_bytes` (or of unknown length) is refused before it is read.
    """

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith("/upload"):
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is None or not length.isdigit() or int(length) > self.max_bytes:
                body = (b'{"detail": "One article file of at most %d MB per upload."}'
                        % (self.max_bytes // 1_000_000))
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def keep_temporary_files_in(folder: Path) -> None:
    """Gradio's upload cache, SQLite's and Python's temporary files and matplotlib's font cache
    go under the data directory, so the server writes nowhere else."""
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("GRADIO_TEMP_DIR", "SQLITE_TMPDIR", "TMPDIR"):
        os.environ[name] = str(folder)
    os.environ.setdefault("MPLCONFIGDIR", str(folder / "matplotlib"))
    tempfile.tempdir = str(folder)


def launch(bot: Assistant | None = None, upload_dir: Path | None = None, **kwargs: Any):
    """Start the chat on 127.0.0.1 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT still apply).

    ASSISTANT_WEB_QUEUE_SIZE (default 32) and ASSISTANT_WEB_CONCURRENCY (default 2) set how many
    questions may wait and how many are answered at once; see `build_app`.
    """
    if bot is None:
        settings = Settings.load()
        keep_temporary_files_in(settings.data_dir / "tmp")
        bot, upload_dir = default_assistant(settings)
    else:
        keep_temporary_files_in(bot.settings.data_dir / "tmp")
    demo = build_app(bot, upload_dir, queue_size=int(os.environ.get("ASSISTANT_WEB_QUEUE_SIZE") or 32),
                     concurrency=int(os.environ.get("ASSISTANT_WEB_CONCURRENCY") or 2))
    kwargs.setdefault("server_name", os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    kwargs.setdefault("share", False)
    kwargs.setdefault("max_file_size", f"{MAX_UPLOAD_MB}mb")
    from starlette.middleware import Middleware

    # One file of up to MAX_UPLOAD_MB MiB, plus the multipart envelope.
    kwargs.setdefault("app_kwargs", {"middleware": [
        Middleware(UploadLimit, max_bytes=MAX_UPLOAD_MB * 1_048_576 + 64_000)]})
    kwargs.setdefault("css", CSS + web_assets.CSS)
    kwargs.setdefault("head", web_assets.head(MAX_UPLOAD_MB * 1_000_000))
    kwargs.setdefault("footer_links", ["api"])
    return demo.launch(**kwargs)
