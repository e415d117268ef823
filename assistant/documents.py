"""Read article files, clean them, and split them into sentences with character offsets."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import CorpusError
from .types import Document, Sentence

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


class BadFile(ValueError):
    """A file that cannot be ingested; the message is the one-line reason."""


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


# Control characters other than tab and newline never belong in article text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

# Boilerplate: short lines that address the reader instead of telling the story
# (calls to follow, share, subscribe; ads; copyright), whatever network or wording they use.
_CTA = re.compile(
    r"^\W*(follow|subscribe|sign up|signup|join|like|share|download|get|click|tap|read more|"
    r"read also|see also|related|recommended|advertisement|sponsored|promoted|watch|listen|"
    r"support us|donate)\b",
    re.IGNORECASE,
)
_PLATFORM = re.compile(
    r"\b(google news|facebook|twitter|instagram|telegram|whatsapp|youtube|tiktok|linkedin|"
    r"newsletter|our app|app store|google play|push notifications|rss)\b",
    re.IGNORECASE,
)
_LEGAL = re.compile(r"^\W*(©|\(c\)|copyright\b|all rights reserved)", re.IGNORECASE)
_BOILERPLATE_MAX_WORDS = 16


# A site's navigation: three or more short items between bars or bullets ("Home | News | Sport").
_NAV = re.compile(r"^[^|•·]{1,30}(\s[|•·]\s[^|•·]{1,30}){2,}$")


def is_boilerplate(line: str) -> bool:
    """True for a promotional or navigational line that is not part of the story."""
    words = line.split()
    if not words or len(words) > _BOILERPLATE_MAX_WORDS:
        return False
    if _NAV.match(line) and not re.search(r"[.?!:\"\u201d]\s*$", line):
        return True
    if _LEGAL.search(line) or line.strip().lower() in {"advertisement", "sponsored content"}:
        return True
    if not _CTA.search(line):
        return False
    # A story sentence that merely starts with "Share" or "Like" ends like a sentence;
    # a call to action names a platform or is a short fragment.
    return bool(_PLATFORM.search(line)) or (
        len(words) <= 8 and not re.search(r"[.?\"\u201d\u2019]\s*$", line))


def clean_line(line: str) -> str:
    line = unicodedata.normalize("NFC", line)
    line = _SURROGATE.sub("", _CONTROL.sub("", line))
    return _SPACES.sub(" ", line).strip()


def clean_text(raw: str) -> tuple[str, list[str]]:
    """Return (title, paragraphs): control characters gone, whitespace normalised, boilerplate dropped.

    The first non-empty line is the title. Paragraphs are runs of non-empty lines.
    """
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[str] = []
    current: list[str] = []
    for line in raw.split("\n"):
        line = clean_line(line)
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if is_boilerplate(line):
            continue
        current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    if not paragraphs:
        return "", []
    return paragraphs[0], paragraphs[1:]


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


# A "sentence" longer than this is split at spaces: a 19 MB article without punctuation was one
# sentence, took pysbd 100 s and was cited whole. pysbd reads at most _BLOCK characters at once.
MAX_SENTENCE_CHARS = 1200
_BLOCK = 20_000


def split_sentences(paragraph: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) inside one paragraph, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for b0, b1 in _blocks(paragraph, _BLOCK):
        block = paragraph[b0:b1]
        for span in _segmenter().segment(block):
            start, end = b0 + span.start, b0 + span.end
            while start < end and paragraph[start].isspace():
                start += 1
            while end > start and paragraph[end - 1].isspace():
                end -= 1
            if end > start:
                spans.extend(_blocks(paragraph, MAX_SENTENCE_CHARS, start, end))
    return spans


def _blocks(text: str, size: int, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """text[start:end] cut into pieces of at most `size` characters, at a sentence end or a space
    where there is one, trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    out = []
    while start < end:
        stop = min(end, start + size)
        if stop < end:
            cut = max(text.rfind(". ", start, stop), text.rfind(" ", start, stop))
            if cut > start:
                stop = cut + 1
        a, b = start, stop
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
        start = stop
    return out


def content_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def build_document(title: str, paragraphs: list[str], source: str, *,
                   pages: list[int] | None = None, title_page: int | None = None) -> Document:
    """Lay out title and paragraphs as the text a reader sees, and index its sentences.

    `pages`: each paragraph's page number (a PDF's), kept on its sentences.
    """
    if not title:
        raise BadFile("no text left after cleaning")
    text = title
    spans: list[tuple[int, int, int | None]] = [(0, len(title), title_page)]
    for n, para in enumerate(paragraphs):
        text += "\n\n"
        base = len(text)
        text += para
        page = pages[n] if pages else None
        spans.extend((base + s, base + e, page) for s, e in split_sentences(para))
    doc_id = content_id(text)
    sentences = [Sentence(doc_id, i, s, e, text[s:e], page) for i, (s, e, page) in enumerate(spans)]
    return Document(doc_id=doc_id, title=title, source=source, text=text, sentences=sentences)


def decode(data: bytes) -> str:
    """Bytes to text, refusing what is not UTF-8 text (binary files, other encodings)."""
    if not data.strip():
        raise BadFile("empty file")
    if data.count(b"\x00") > max(8, len(data) // 100):
        raise BadFile("binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(f"not valid UTF-8 text (byte {exc.start})") from None
    controls = len(_CONTROL.findall(text))
    if controls > max(8, len(text) // 20):
        raise BadFile("binary file (control characters), not text")
    return text


def html_to_text(html: str) -> str:
    """Main text of an HTML page (trafilatura), its title first."""
    import trafilatura

    try:
        body = trafilatura.extract(html, include_comments=False, include_tables=False,
                                   favor_precision=True) or ""
        meta = trafilatura.extract_metadata(html)
    except Exception as exc:  # noqa: BLE001  (odd markup trips lxml/htmldate asserts: a bad file, not a crash)
        raise BadFile(f"the HTML could not be read ({type(exc).__name__})") from None
    title = (meta.title if meta and meta.title else "") or _first_tag(html, "h1")
    if not body.strip():
        raise BadFile("no article text found in the HTML")
    # trafilatura puts one paragraph a line; the cleaner reads blank lines as paragraph breaks.
    body = "\n\n".join(line for line in body.split("\n") if line.strip())
    if title and body.split("\n", 1)[0].strip() != title:
        body = f"{title}\n\n{body}"
    return body


def _first_tag(html: str, tag: str) -> str:
    m = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", html, re.IGNORECASE | re.DOTALL)
    return re.sub(r"<[^>]+>", "", m.group(1)).strip() if m else ""


# Declarations and comments that may precede a markup document's first element.
_PROLOG = re.compile(r"\A(?:\s+|<\?xml[^>]*>|<!--.*?-->|<!doctype[^>]*>)*", re.IGNORECASE | re.DOTALL)
_FIRST_TAG = re.compile(r"<([a-zA-Z][\w.:-]*)")


def sniff_markup(text: str, suffix: str) -> None:
    """Refuse content that is not what its extension claims: SVG images, and markup in text files.

    .html/.htm may hold any HTML (its text is extracted, never rendered) but not an SVG or other
    XML document; .txt and .md must not be a whole HTML, SVG or XML document.
    """
    head = text[:4096]
    prolog = _PROLOG.match(head).group(0)
    tag = _FIRST_TAG.match(head, len(prolog))
    root = tag.group(1).lower().rsplit(":", 1)[-1] if tag else ""
    if root == "svg" or re.search(r"<!doctype\s+svg", prolog, re.IGNORECASE):
        raise BadFile("it is an SVG image, not an article")
    is_xml = prolog.lstrip().lower().startswith("<?xml")
    if suffix in (".html", ".htm"):
        if is_xml and root and root != "html":
            raise BadFile(f"it is an XML document (<{root}>), not an HTML page")
        return
    if root == "html" or re.search(r"<!doctype\s+html", prolog, re.IGNORECASE):
        raise BadFile(f"it is an HTML page, not {suffix} text (add it as .html)")
    if is_xml:
        raise BadFile(f"it is an XML document, not {suffix} text")


def load_file(path: Path, *, max_bytes: int) -> Document:
    """Read one article file into a Document, or raise BadFile with a one-line reason."""
    return parse_article(read_article_bytes(path, max_bytes=max_bytes), path)


def read_article_bytes(path: Path, *, max_bytes: int) -> bytes:
    """The file's bytes, or BadFile for an unsupported, oversized or unreadable file."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise BadFile(f"unsupported file type {suffix or '(none)'}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadFile(f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB limit)")
        return path.read_bytes()
    except OSError as exc:
        raise BadFile(f"unreadable ({exc.strerror or exc})") from None


def parse_article(data: bytes, path: Path) -> Document:
    """An article file's bytes (its name gives the format) as a Document, or BadFile."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return pdf_document(data, source=str(path))
    text = decode(data)
    sniff_markup(text, suffix)
    if suffix in (".html", ".htm"):
        text = html_to_text(text)
    elif suffix in (".md", ".markdown"):
        title, paragraphs = markdown_parts(text)
        return build_document(title, paragraphs, source=str(path))
    title, paragraphs = clean_text(text)
    return build_document(title, paragraphs, source=str(path))


def pdf_document(data: bytes, source: str) -> Document:
    """A PDF's text as a Document whose sentences know their page, or BadFile."""
    from .formats.pdf import PdfProblem, read_pdf

    try:
        article = read_pdf(data)
    except PdfProblem as exc:
        raise BadFile(str(exc)) from None
    paragraphs, pages = [], []
    for page in article.pages:
        for para in page.paragraphs:
            para = clean_line(para)
            if para and not is_boilerplate(para):
                paragraphs.append(para)
                pages.append(page.number)
    title, title_page = clean_line(article.title), article.title_page
    if not title and paragraphs:
        title, title_page = paragraphs.pop(0), pages.pop(0)
    return build_document(title, paragraphs, source, pages=pages, title_page=title_page)


def markdown_parts(md: str) -> tuple[str, list[str]]:
    """(title, paragraphs) of a Markdown article: cleaned like text, each block a paragraph."""
    from .formats.markdown import read_markdown

    article = read_markdown(md)
    blocks = [b for b in (clean_line(x) for x in article.blocks) if b and not is_boilerplate(b)]
    title = clean_line(article.title)
    if not title and blocks:
        title, blocks = blocks[0], blocks[1:]
    byline = clean_line(article.byline)
    if byline and not any(b.casefold() == byline.casefold() for b in blocks):
        blocks.insert(0, byline)
    return title, blocks


@dataclass
class CorpusFiles:
    """The article files of each corpus root, and the files refused with a reason."""

    by_root: dict[Path, list[Path]]
    skipped: list[Skipped]

    @property
    def files(self) -> list[Path]:
        return [p for paths in self.by_root.values() for p in paths]


def find_article_files(roots: list[Path], *, may_be_empty: tuple[Path, ...] = ()) -> CorpusFiles:
    """Article files under the given folders (or files), in a stable order.

    A root that is missing, is neither a folder nor an article file, or (unless it is one of
    `may_be_empty`) holds no article file raises CorpusError: a typo must never read as "the
    user deleted every article". Links, files that resolve outside their folder and names that
    are not valid UTF-8 are refused with a reason.
    """
    by_root: dict[Path, list[Path]] = {}
    skipped: list[Skipped] = []
    empty_ok = {p.resolve() for p in may_be_empty}
    for root in roots:
        if not root.exists():
            raise CorpusError(f"Corpus folder {_shown(root)} does not exist; check the path "
                              "(nothing was changed).")
        if root.is_file():
            if root.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise CorpusError(f"{_shown(root)} is not a folder or an article file "
                                  f"({', '.join(SUPPORTED_SUFFIXES)}); nothing was changed.")
            by_root[root] = [root]
            continue
        if not root.is_dir():
            raise CorpusError(f"{_shown(root)} is not a folder or an article file; nothing was changed.")
        files = _walk(root, skipped)
        if not files and root.resolve() not in empty_ok:
            raise CorpusError(f"Corpus folder {_shown(root)} holds no article file "
                              f"({', '.join(SUPPORTED_SUFFIXES)}); nothing was changed.")
        by_root[root] = files
    return CorpusFiles(by_root, skipped)


def _walk(root: Path, skipped: list[Skipped]) -> list[Path]:
    real_root = root.resolve()
    found: list[Path] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if not _valid_utf8(name):
                skipped.append(Skipped(_shown(path), "the file name is not valid UTF-8; rename it"))
            elif path.is_symlink():
                skipped.append(Skipped(_shown(path), "a link; links are not followed, copy the file in"))
            elif not path.resolve().is_relative_to(real_root):
                skipped.append(Skipped(_shown(path), "resolves outside the corpus folder"))
            elif path.is_file():
                found.append(path)
        for d in list(dirs):
            if (Path(folder) / d).is_symlink():  # os.walk lists linked folders; never enter them
                dirs.remove(d)
    return found


def _valid_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
        return False
    return True


def _shown(path: Path) -> str:
    """A path as text that can always be printed and stored (odd bytes escaped)."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")
