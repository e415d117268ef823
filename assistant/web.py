"""The Gradio web chat: a thin layer that asks the Assistant and renders its Answer safely."""

from __future__ import annotations

import html
import os
import re
from typing import Any

from .assistant import Assistant
from .types import Answer

# Offline: no analytics, no hub look-ups. Must be set before gradio is imported.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape(text: str) -> str:
    """Article text is data: neither HTML nor Markdown in it may render, link or load anything."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def render_answer(answer: Answer) -> str:
    """The answer as chat Markdown: escaped text, then its numbered sources."""
    body = escape(answer.text).replace("\n", "  \n")
    if not answer.citations:
        return body
    lines = [body, "", "**Sources**", ""]
    for c in answer.citations:
        lines.append(f"{c.marker}\\. *{escape(c.title)}*, sentence {c.sentence_id}: "
                     f"\u201c{escape(c.text)}\u201d")
        lines.append("")
    return "\n".join(lines)


def build_app(bot: Assistant):
    import gradio as gr

    def respond(message: str, history: list[dict[str, Any]]) -> str:
        return render_answer(bot.ask(message, history=history))

    def ask(question: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Answer a question about the articles; returns Answer.to_dict()."""
        return bot.ask(question, history=history).to_dict()

    with gr.Blocks(title="Article Q&A", analytics_enabled=False) as demo:
        gr.Markdown(f"### Article Q&A\nAnswers quote and cite the sentences of "
                    f"{len(bot.documents())} article(s); when they do not say, it says so.")
        gr.ChatInterface(respond, api_name="chat", flagging_mode="never",
                         chatbot=gr.Chatbot(sanitize_html=True, render_markdown=True, height=520))
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=2, max_size=32)
    return demo


def launch(bot: Assistant | None = None, **kwargs: Any):
    """Start the chat on 127.0.0.1 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT still apply)."""
    bot = bot or Assistant()
    demo = build_app(bot)
    kwargs.setdefault("server_name", os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    kwargs.setdefault("share", False)
    kwargs.setdefault("max_file_size", "5mb")
    return demo.launch(**kwargs)
