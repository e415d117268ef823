"""How the web chat shows an Answer: chat Markdown and the sources panel, every piece escaped.

Article text and answers are data. Chat Markdown escapes both HTML and Markdown; the sources panel
is HTML built only from `html.escape`d pieces and our own tags, so nothing in an article can run,
link or load anything.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable

from .answering.verify import strip_unsafe
from .types import Answer, Citation, Document

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_MARKER = re.compile(r"\s?\[(\d+)\]")
_MARKER_SPLIT = re.compile(r"\[(\d+)\]")


def escape(text: str) -> str:
    """Article text is data: neither HTML nor Markdown in it may render, link or load anything.

    Quotes stay as typed: outside a tag they are plain text, and `html.escape(quote=True)` would
    write `'` as `&#x27;`, whose `#` the Markdown escape then breaks, so the page showed it raw.
    """
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def h(text: str) -> str:
    """Escape for the HTML panel; `$` too, since the component fills a JS template with it."""
    return html.escape(str(text), quote=True).replace("$", "&#36;")


def render_answer(answer: Answer) -> str:
    """The answer as chat Markdown, said once: escaped text whose `[n]` markers link to their
    sentence in the sources panel (which quotes and highlights it; the chat does not repeat it)."""
    cited = {c.marker: c for c in answer.citations}
    pieces = []
    for i, piece in enumerate(_MARKER_SPLIT.split(answer.text)):
        if i % 2 and int(piece) in cited:
            pieces.append(marker_link(cited[int(piece)]))
        else:
            pieces.append(escape(f"[{piece}]" if i % 2 else piece))
    body = "".join(pieces).replace("\n", "  \n")
    if answer.notice:
        body = f"*{escape(answer.notice)}*\n\n{body}"
    return body


def marker_link(c: Citation) -> str:
    """`[n]` as the same link the panel's list has: one click shows its sentence in the article.
    A sentence of a paged file (PDF) says its page beside the marker: "[1] p. 2"."""
    page = f' <span class="qa-chat-page">p.\u00a0{int(c.page)}</span>' if c.page is not None else ""
    return (f'<button type="button" class="qa-cite-link qa-chat-cite" '
            f'title="Show this sentence in the article">[{c.marker}]</button>{page}')


def page_label(c: Citation) -> str:
    """", p. 3" for a sentence of a paged file (PDF); nothing otherwise."""
    return f", p.\u00a0{int(c.page)}" if c.page is not None else ""


def render_partial(text: str) -> str:
    """The LLM's reply while it streams: unchecked, so cleaned, escaped and marked as in progress."""
    return escape(strip_unsafe(text)[0]).replace("\n", "  \n") + " …\n\n*checking the sources…*"


def limit_citations(answer: Answer, n: int) -> Answer:
    """The answer with at most `n` sources: later citations, their markers and quotes dropped."""
    keep = {c.marker for c in answer.citations if c.marker <= n}
    if len(keep) == len(answer.citations):
        return answer
    paragraphs = [p for p in answer.text.split("\n\n")
                  if not (found := {int(m) for m in _MARKER.findall(p)}) or found & keep]
    text = _MARKER.sub(lambda m: m.group() if int(m.group(1)) in keep else "", "\n\n".join(paragraphs))
    return dataclasses.replace(answer, text=text,
                               citations=[c for c in answer.citations if c.marker in keep])


def mark_id(marker: int) -> str:
    return f"qa-mark-{marker}"


def render_article(doc: Document, citations: Iterable[Citation] = ()) -> str:
    """The article text as escaped paragraphs, each cited sentence wrapped in <mark id=...>."""
    spans = sorted((c for c in citations if c.doc_id == doc.doc_id), key=lambda c: c.start)
    out, pos = [], 0
    for c in spans:
        if c.start < pos:  # overlapping spans cannot both be marked; the first one wins
            continue
        out.append(_paragraphs(doc.text[pos:c.start]))
        out.append(f'<mark class="qa-mark" id="{mark_id(c.marker)}" data-marker="{c.marker}">'
                   f'{h(doc.text[c.start:c.end])}</mark><sup class="qa-sup">[{c.marker}]</sup>')
        pos = c.end
    out.append(_paragraphs(doc.text[pos:]))
    # Sentences never span paragraphs, so splitting after marking is safe; the first is the headline.
    head, *paragraphs = "".join(out).split("</p><p>")
    text = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<article class="qa-article" data-doc="{h(doc.doc_id)}">'
            f'<h3 class="qa-article-title">{head}</h3>'
            f'<div class="qa-article-text">{text}</div></article>')


def _paragraphs(text: str) -> str:
    return "</p><p>".join(h(part) for part in text.split("\n\n"))


def render_sources(answer: Answer, documents: dict[str, Document],
                   suggestions: dict[str, list[str]] | None = None) -> str:
    """The sources panel for one answer: cited sentences (one click to each), then the articles."""
    if answer.abstained:
        return render_abstention(answer, list(documents.values()), suggestions or {})
    if not answer.citations:
        return render_welcome(list(documents.values()))
    items = []
    for c in answer.citations:
        items.append(
            f'<li class="qa-cite"><button type="button" class="qa-cite-link" '
            f'data-target="{mark_id(c.marker)}" title="Show this sentence in the article">'
            f'[{c.marker}]</button> <span class="qa-cite-title">{h(c.title)}</span>'
            f'{page_label(c)}'
            f'<blockquote class="qa-quote">\u201c{h(c.text)}\u201d</blockquote></li>')
    cited_docs = list(dict.fromkeys(c.doc_id for c in answer.citations))
    articles = "".join(render_article(documents[d], answer.citations)
                       for d in cited_docs if d in documents)
    return (f'<div class="qa-panel"><h2 class="qa-heading">Sources</h2>'
            f'<ol class="qa-cites">{"".join(items)}</ol>'
            f'<div class="qa-articles">{articles}</div></div>')


def render_abstention(answer: Answer, documents: list[Document],
                      suggestions: dict[str, list[str]]) -> str:
    """What the articles do cover, when they do not answer the question."""
    reason = h(answer.error) if answer.error else "The articles do not cover this."
    items = []
    for doc in documents:
        asks = "".join(f'<li><button type="button" class="qa-try-ask" data-question="{h(q)}" '
                       f'title="Ask this">{h(q)}</button></li>' for q in suggestions.get(doc.doc_id, []))
        items.append(f'<li><span class="qa-cite-title">{h(doc.title)}</span>'
                     + (f'<ul class="qa-try">{asks}</ul>' if asks else "") + "</li>")
    covered = (f'<p>They cover:</p><ul class="qa-covered">{"".join(items)}</ul>' if items
               else "<p>No articles are indexed yet; add one below the chat.</p>")
    return (f'<div class="qa-panel qa-abstain"><h2 class="qa-heading">Not in the articles</h2>'
            f'<p class="qa-reason">{reason}</p>{covered}</div>')


def render_welcome(documents: list[Document], doc: Document | None = None) -> str:
    """Before the first answer: the article in view, or the list of all articles."""
    if doc is not None:
        return f'<div class="qa-panel"><div class="qa-articles">{render_article(doc)}</div></div>'
    items = "".join(f'<li><span class="qa-cite-title">{h(d.title)}</span> '
                    f'<span class="qa-meta">({len(d.sentences)} sentences)</span></li>'
                    for d in documents)
    return (f'<div class="qa-panel"><h2 class="qa-heading">Articles</h2>'
            f'<p>Ask a question; the sentences it cites appear here, highlighted in their '
            f'article.</p><ul class="qa-covered">{items}</ul></div>')
