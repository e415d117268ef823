"""LLM answers through LangChain: rewrite the follow-up, answer from numbered sentences, verify.

The chat model is LangChain's (`langchain-openai` for any OpenAI-compatible server, `langchain-ollama`).
The model only ever sees sentences that retrieval found, numbered and fenced as data; whatever it
replies is checked by `verify` before anyone sees it, and the extractive answer stands in when the
model fails or nothing it said can be traced to a sentence.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda

from ..errors import LLMUnavailable, SettingsError
from ..index import CorpusIndex
from ..prompts import load_prompt
from ..settings import Settings
from ..types import Passage
from .answerer import Draft, Evidence, TokenSink
from .extractive import ExtractiveAnswerer
from .query import Query
from .verify import Numbered, Verified, is_not_found, verify

NOT_FOUND = "The articles do not say."
FALLBACK = " Showing the answer quoted from the articles instead."
_FENCE = re.compile(r"</?\s*(sentences|conversation)\s*>", re.I)


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The LangChain chat model the settings name; retries are ours (see LLMAnswerer._call)."""
    if settings.llm_provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(model=settings.llm_model, base_url=settings.llm_base_url or None,
                          temperature=settings.llm_temperature,
                          client_kwargs={"timeout": settings.llm_timeout})
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key or os.environ.get("OPENAI_API_KEY", "")
    if not key:
        if not settings.llm_base_url:
            raise SettingsError("answer_mode=llm with OpenAI needs a key: set ASSISTANT_LLM_API_KEY or "
                                "OPENAI_API_KEY, or ASSISTANT_LLM_BASE_URL for a local server.")
        key = "not-needed"  # local OpenAI-compatible servers ignore it, the client insists on one
    return ChatOpenAI(model=settings.llm_model, base_url=settings.llm_base_url or None, api_key=key,
                      temperature=settings.llm_temperature, timeout=settings.llm_timeout,
                      max_retries=0, streaming=True)


def describe_failure(exc: BaseException, settings: Settings) -> str:
    """One line naming the server and what went wrong, without secrets."""
    where = settings.llm_base_url or ("Ollama on localhost" if settings.llm_provider == "ollama"
                                      else "the OpenAI API")
    name = type(exc).__name__
    if "Timeout" in name or isinstance(exc, TimeoutError):
        what = f"did not answer within {settings.llm_timeout:g} s"
    elif "Connect" in name or isinstance(exc, ConnectionError):
        what = "could not be reached"
    elif getattr(exc, "status_code", None):
        what = f"answered with HTTP {exc.status_code}"
    else:
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        what = f"failed ({name}{': ' + first if first else ''})"
    return f"The LLM ({settings.llm_model} at {where}) {what}."


@dataclass
class Reply:
    """The verified reply, or `abstained` when the model said the sentences do not answer."""

    verified: Verified | None
    abstained: bool


class LLMAnswerer:
    name = "llm"

    def __init__(self, settings: Settings, index: CorpusIndex, embed: Callable[[list[str]], np.ndarray],
                 fallback: ExtractiveAnswerer, chat_model: BaseChatModel | None = None):
        """`fallback` answers when the model fails or its reply cannot be traced to a sentence."""
        self.settings = settings
        self.fallback = fallback
        self.index = index
        self.embed = embed
        self.model = chat_model if chat_model is not None else make_chat_model(settings)
        answer_prompt = load_prompt("answer", settings.prompts_dir)
        condense_prompt = load_prompt("condense", settings.prompts_dir)
        self.answer_chain = (RunnableLambda(lambda v: answer_prompt.render(**v)) | self.model
                             | StrOutputParser()).with_config(run_name="llm_answer")
        self.condense_chain = (RunnableLambda(lambda v: condense_prompt.render(**v)) | self.model
                               | StrOutputParser()).with_config(run_name="llm_condense")

    def condense(self, question: str, history: list[dict[str, str]]) -> str:
        """The follow-up as a standalone question; the question itself when the reply is unusable."""
        turns = [{"role": t["role"], "content": _data(t["content"])[:2000]} for t in history[-6:]]
        reply = self._call(self.condense_chain, {"question": _data(question), "history": turns})
        line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
        line = line.strip("\"'“” ")
        return line if 0 < len(line) <= 3 * len(question) + 200 else question

    def number(self, passages: list[Passage]) -> list[Numbered]:
        """The retrieved sentences, each once, in retrieval order, numbered from 1."""
        out: list[Numbered] = []
        seen: set[str] = set()
        for p in passages:
            doc = self.index.documents.get(p.doc_id)
            if doc is None:
                continue
            for s in doc.sentences[p.first_sentence: p.last_sentence + 1]:
                if s.key not in seen and len(out) < self.settings.llm_max_sentences:
                    seen.add(s.key)
                    out.append(Numbered(len(out) + 1, s, doc.title))
        return out

    def answer(self, query: Query, evidence: Evidence, on_token: TokenSink | None = None) -> Draft:
        """The model's verified answer; the extractive one when the model fails or cannot be verified."""
        started = time.perf_counter()
        try:
            reply = self.reply(query.full_text, evidence.passages, on_token)
        except LLMUnavailable as exc:
            return replace(self.fallback.answer(query, evidence), notice=f"{exc}{FALLBACK}",
                           timings={"llm_ms": _ms(started)})
        timings = {"llm_ms": _ms(started)}
        if reply.abstained:
            return replace(self.fallback.abstain(0.0), mode=self.name, timings=timings)
        verified = reply.verified
        if verified.grounded:
            return Draft(text=verified.text, citations=verified.citations, abstained=False,
                         confidence=max(c.score for c in verified.citations), mode=self.name,
                         verification=verified.verification, timings=timings)
        draft = self.fallback.answer(query, evidence)
        verified.verification.fallback = "abstain" if draft.abstained else "extractive"
        return replace(draft, verification=verified.verification, timings=timings, notice=(
            "The model's answer could not be matched to any sentence of the articles, so "
            + ("nothing is claimed." if draft.abstained else "the quoted sentences are shown instead.")))

    def reply(self, question: str, passages: list[Passage], on_token: TokenSink | None = None) -> Reply:
        """The model's reply over the numbered sentences, verified; raises LLMUnavailable."""
        numbered = self.number(passages)
        if not numbered:
            return Reply(None, abstained=True)
        shown = [{"n": x.n, "title": _data(x.title), "text": _data(x.sentence.text)} for x in numbered]
        reply = self._call(self.answer_chain, {"question": _data(question), "sentences": shown,
                                               "not_found": NOT_FOUND}, on_token)
        if is_not_found(reply, NOT_FOUND):
            return Reply(None, abstained=True)
        return Reply(verify(reply, numbered, embed=self.embed,
                               min_support=self.settings.verify_min_support, question=question),
                        abstained=False)

    def _call(self, chain, variables: dict, on_token: TokenSink | None = None) -> str:
        """Stream the reply (passing tokens on); retry a failure only before the first token."""
        attempts = self.settings.llm_max_retries + 1
        for attempt in range(attempts):
            parts: list[str] = []
            try:
                for piece in chain.stream(variables):
                    parts.append(piece)
                    if on_token and piece:
                        on_token(piece)
                return "".join(parts)
            except SettingsError:
                raise
            except Exception as exc:  # noqa: BLE001  (any failure of a remote server is reported the same way)
                if parts or attempt == attempts - 1:
                    raise LLMUnavailable(describe_failure(exc, self.settings)) from exc
        raise AssertionError("unreachable")


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def _data(text: str) -> str:
    """Article or user text on one line, unable to close the prompt's fences."""
    return " ".join(_FENCE.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text).split())
