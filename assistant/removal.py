"""Removing an article the user asked to remove: from the index, and from the uploads folder.

An uploaded article's file is ours and is deleted. A file in the user's own corpus folder is
never deleted: the index remembers its bytes' hash and ingest leaves it out while the file stays
the same (an edited file is a new article and comes back).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .errors import ArticleNotFound
from .ingest import file_hash, sole_writer
from .store import VectorStore
from .types import Document


@dataclass(frozen=True)
class Removal:
    """What removing one article did."""

    doc_id: str
    title: str
    deleted_files: list[str] = field(default_factory=list)  # its copies in the uploads folder
    kept_files: list[str] = field(default_factory=list)  # the user's own files, left where they are

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        text = f"Removed \u201c{self.title}\u201d from the index"
        if self.deleted_files:
            text += " and deleted its uploaded file"
        if self.kept_files:
            text += (f"; its file {', '.join(self.kept_files)} was kept and stays out of the index "
                     "unless it changes (delete it yourself to be rid of it)")
        return text + "."


def confirmation(doc: Document, uploads: Path | None) -> str:
    """The question to ask before removing `doc`, saying what happens to its file."""
    uploaded = uploads is not None and Path(doc.source).resolve().is_relative_to(uploads.resolve())
    return (f"Remove \u201c{doc.title}\u201d from the index? "
            + ("Its uploaded file is deleted." if uploaded else
               "Its file in your corpus folder is kept, and stays out of the index unless it changes."))


def find_article(documents: list[Document], which: str) -> Document:
    """The article with this id (or unique id prefix of 6+ characters) or this exact title."""
    which = (which or "").strip()
    if not which:
        raise ArticleNotFound("Name the article to remove by its id or title.")
    by_id = [d for d in documents if d.doc_id == which]
    if not by_id and len(which) >= 6:
        by_id = [d for d in documents if d.doc_id.startswith(which)]
    by_title = [d for d in documents if d.title.casefold() == which.casefold()]
    found = by_id or by_title
    if len(found) == 1:
        return found[0]
    shown = which if len(which) <= 80 else which[:77] + "..."
    if not found:
        raise ArticleNotFound(f"No indexed article has the id or title {shown!r}; "
                              "'assistant list' shows them.")
    raise ArticleNotFound(f"{len(found)} articles match {shown!r} "
                          f"({', '.join(d.doc_id for d in found)}); name one by its id.")


def remove_article(doc: Document, catalog: Catalog, store: VectorStore, index_path: Path,
                   uploads: Path | None) -> Removal:
    """Take `doc` out of the index; delete its files in `uploads`, withhold every other file."""
    upload_root = uploads.resolve() if uploads is not None else None
    with sole_writer(index_path):
        paths = [p for p, rec in catalog.sources().items() if rec.doc_id == doc.doc_id]
        ours = [p for p in paths if upload_root is not None and Path(p).resolve().is_relative_to(upload_root)]
        theirs = [p for p in paths if p not in ours]
        withhold = {}
        for path in theirs:
            try:
                withhold[path] = file_hash(Path(path).read_bytes())
            except OSError:
                pass  # the file is gone already: nothing can bring the article back
        # As in ingest: vectors left by a crash between these two steps go on the next ingest.
        state = catalog.get_meta("ingest_state")
        catalog.set_meta("ingest_state", "writing")
        catalog.remove_document(doc.doc_id, withhold=withhold)
        store.delete_doc(doc.doc_id)
        if state == "clean":  # an unfinished ingest before us still needs its orphans removed
            catalog.set_meta("ingest_state", "clean")
    for path in ours:
        Path(path).unlink(missing_ok=True)
    return Removal(doc.doc_id, doc.title, deleted_files=ours, kept_files=theirs)
