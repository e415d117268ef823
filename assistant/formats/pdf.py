"""PDF articles read with pypdf: the text of each page, with its page number.

A PDF whose pages hold no text (a scan: pages are pictures) is refused, since nothing in it can
be quoted; so is one that is encrypted or too damaged to read.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field

# A line that is only a page number ("3", "- 3 -", "Page 3 of 7"): furniture, not text.
_PAGE_NUMBER = re.compile(r"^\W*(page\s+)?\d{1,4}(\s+(of|/)\s+\d{1,4})?\W*$", re.IGNORECASE)
_SOFT_HYPHEN = re.compile(r"(?<=[a-z])-\n(?=[a-z])")


# Title metadata that names a file or nothing ("Microsoft Word - draft.docx", "untitled").
_JUNK_TITLE = re.compile(r"\.\w{2,4}$|^(untitled|document\d*|microsoft word\b.*)$", re.IGNORECASE)


class PdfProblem(ValueError):
    """A PDF that cannot be read as an article; the message is the one-line reason."""


@dataclass(frozen=True)
class PdfPage:
    number: int  # 1-based, as a PDF viewer counts
    paragraphs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PdfArticle:
    title: str  # the document's Title metadata, else its first line of text
    title_page: int | None = None  # the page the title was read from (None: from the metadata)
    pages: list[PdfPage] = field(default_factory=list)  # pages with text only


def read_pdf(data: bytes) -> PdfArticle:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    if not data.lstrip()[:5] == b"%PDF-":
        raise PdfProblem("not a PDF file (no %PDF header)")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged-but-readable files warn loudly
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfProblem("the PDF is password-protected; save an unprotected copy")
        texts = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = str(meta.title or "").strip() if meta else ""
    except PdfProblem:
        raise
    except FileNotDecryptedError:
        raise PdfProblem("the PDF is password-protected; save an unprotected copy") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise PdfProblem(f"the PDF could not be read ({type(exc).__name__})") from None
    if not texts:
        raise PdfProblem("the PDF has no pages")
    if _JUNK_TITLE.search(title):
        title = ""
    first = next((i for i, t in enumerate(texts) if t.strip()), None)
    title_page = None
    if first is not None:
        line, _, rest = texts[first].strip().partition("\n")
        if not title or " ".join(line.split()).casefold() == " ".join(title.split()).casefold():
            title, title_page = title or line.strip(), first + 1
            texts[first] = rest  # the headline is the title, not also the first sentence
    pages = [PdfPage(n, _paragraphs(text)) for n, text in enumerate(texts, start=1)]
    pages = [p for p in pages if p.paragraphs]
    if not pages:
        raise PdfProblem("the PDF has no text layer (a scanned, image-only PDF?); "
                         "run OCR on it or add the text as a .txt file")
    return PdfArticle(title=title, title_page=title_page, pages=pages)


def _paragraphs(text: str) -> list[str]:
    """A page's text as paragraphs: blank lines part them; wrapped lines are joined."""
    text = _SOFT_HYPHEN.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.split("\n")]
        lines = [ln for ln in lines if ln and not _PAGE_NUMBER.match(ln)]
        if lines:
            out.append(" ".join(lines))
    return out
