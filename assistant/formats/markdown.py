"""Markdown articles read with a Markdown parser (markdown-it-py): title, byline and text blocks.

Images drop out of the text (their alt text is not glued into a sentence), links keep their
words, every heading, paragraph, list item and table row is a block of its own, and YAML front
matter gives the title and the author.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_AUTHOR_KEYS = ("author", "authors", "byline", "by")
_TAG = re.compile(r"<[^>]*>")
_HIDDEN_HTML = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class MarkdownArticle:
    """What a Markdown file says, as plain text in reading order (not yet cleaned)."""

    title: str  # from the front matter, else the first heading (an h1 before any other); "" if none
    byline: str  # "By ..." from the front matter's author; "" if none
    blocks: list[str] = field(default_factory=list)  # every other heading, paragraph, item, row


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def read_markdown(text: str) -> MarkdownArticle:
    meta, body = _front_matter(text)
    blocks: list[tuple[str, str]] = []  # (kind, text): kind is "h1".."h6", "p" or "row"
    row: list[str] | None = None
    tokens = _parser().parse(body)
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close" and row is not None:
            blocks.append(("row", "; ".join(c for c in row if c)))
            row = None
        elif tok.type == "inline":
            words = _inline_text(tok.children or [])
            if row is not None:
                row.append(words)
            else:
                opener = tokens[i - 1] if i else None
                blocks.append((opener.tag if opener is not None and opener.type == "heading_open"
                               else "p", words))
        elif tok.type in ("fence", "code_block"):
            blocks.extend(("p", line) for line in tok.content.split("\n"))
        elif tok.type == "html_block":
            blocks.append(("p", html.unescape(_TAG.sub(" ", _HIDDEN_HTML.sub(" ", tok.content)))))
    blocks = [(kind, words) for kind, words in blocks if words.strip()]

    title = _text_value(meta.get("title"))
    headings = [n for n, (kind, _) in enumerate(blocks) if kind.startswith("h")]
    first = next((n for n in headings if blocks[n][0] == "h1"), headings[0] if headings else None)
    if first is not None and (not title or _same(blocks[first][1], title)):
        title = title or blocks[first][1]
        del blocks[first]
    author = next((_text_value(meta[k]) for k in _AUTHOR_KEYS if k in meta), "")
    byline = ""
    if author:
        byline = author if author.lower().startswith("by ") else f"By {author}"
    return MarkdownArticle(title=title, byline=byline, blocks=[words for _, words in blocks])


def _front_matter(text: str) -> tuple[dict, str]:
    """(front matter as a dict, the rest); no front matter unless it is a YAML mapping."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, text  # not front matter after all (e.g. a rule, then text): read it as Markdown
    if not isinstance(meta, dict):
        return {}, text
    return {str(k).lower(): v for k, v in meta.items()}, text[m.end():]


def _text_value(value) -> str:
    if isinstance(value, list | tuple):
        return " and ".join(_text_value(v) for v in value if v is not None)
    if isinstance(value, dict):
        return _text_value(value.get("name"))
    return "" if value is None else str(value).strip()


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _inline_text(children) -> str:
    """The words a reader sees: link text kept, images and inline HTML tags dropped."""
    out: list[str] = []
    for tok in children:
        if tok.type == "image":
            out.append(" ")  # an image is not part of the sentence around it
        elif tok.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif tok.type in ("text", "code_inline"):
            out.append(tok.content)
    return "".join(out)
