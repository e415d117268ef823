"""The `assistant` command (ingest, ask, chat, list, remove, eval): a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
from pathlib import Path

from .errors import AssistantError, SettingsError
from .evaluation import register as register_eval


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", action="append", type=Path, metavar="DIR",
                   help="article folder or file (repeatable; default: the project's corpus/)")
    p.add_argument("--index-dir", type=Path, metavar="DIR", help="where the index lives")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set top_k=8")


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"--set takes KEY=VALUE, got {pair!r}.")
        out[key.strip()] = value.strip()
    return out


def _assistant(args, *, ingest: bool = True):
    from .assistant import Assistant

    return Assistant(args.corpus, args.index_dir, ingest=ingest, **parse_overrides(args.set))


def format_answer(answer) -> str:
    """The answer text, then its numbered sources, as plain terminal text."""
    lines = [f"({answer.notice})", answer.text] if answer.notice else [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            page = f"p. {c.page}, " if c.page is not None else ""
            lines.append(f"  [{c.marker}] {c.title} ({page}sentence {c.sentence_id}, "
                         f"chars {c.start}-{c.end})")
            lines.append(f"      {c.text}")
    return "\n".join(lines)


def cmd_ingest(args) -> int:
    from .assistant import Assistant

    bot = Assistant(args.corpus, args.index_dir, rebuild=args.rebuild, prune=args.prune,
                    ingest=True, progress=True, **parse_overrides(args.set))
    report = bot.last_ingest
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    for dup, first in report.duplicates:
        print(f"skipped {dup}: same text as {first}", file=sys.stderr)
    print(f"{report.summary()}; {len(bot.documents())} articles indexed in {bot.index_path}")
    return 0


def cmd_ask(args) -> int:
    bot = _assistant(args)
    answer = bot.ask(" ".join(args.question))
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0 if answer.error is None else 2


def cmd_chat(args) -> int:
    bot = _assistant(args)
    history: list[dict[str, str]] = []
    print(f"{len(bot.documents())} articles loaded. Ask a question (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question.strip():
            return 0
        answer = _stream_answer(bot, question, history)
        print(format_answer(answer))
        print()
        history += [{"role": "user", "content": question},
                    {"role": "assistant", "content": answer.text}]


def _stream_answer(bot, question: str, history: list[dict[str, str]]):
    """Print the LLM's words as they come (cleaned, dimmed), then return the verified Answer."""
    from .answering.verify import StreamCleaner
    from .types import Answer

    cleaner, streamed = StreamCleaner(), False
    dim, reset = ("\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "")
    for event in bot.stream(question, history=history):
        if isinstance(event, Answer):
            if streamed:
                print(cleaner.flush() + reset)
                print("Checked against the articles:")
            return event
        text = cleaner.feed(event)
        if text:
            print((dim if not streamed else "") + text, end="", flush=True)
            streamed = True
    raise RuntimeError("the answer stream ended without an answer")


def cmd_list(args) -> int:
    bot = _assistant(args, ingest=False)
    for d in bot.documents():
        print(f"{d.doc_id}  {d.title}  ({len(d.sentences)} sentences, {d.source})")
    return 0


def cmd_remove(args) -> int:
    bot = _assistant(args, ingest=False)
    doc = bot.article(" ".join(args.article))
    if not args.yes:
        from .removal import confirmation

        print(f"{doc.doc_id}  {doc.source}")
        print(f"{confirmation(doc, bot.settings.uploads_path)} [y/N] ", end="", flush=True)
        try:
            reply = input()
        except (EOFError, KeyboardInterrupt):
            reply = ""
        if reply.strip().lower() not in ("y", "yes"):
            print("Nothing was removed.")
            return 1
    print(bot.remove(doc.doc_id).summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="index the corpus (incremental)")
    _add_common(p)
    p.add_argument("--rebuild", action="store_true",
                   help="embed every article anew (after a model change); keeps all articles")
    p.add_argument("--prune", action="store_true",
                   help="also remove indexed articles whose files are not in these folders")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("ask", help="answer one question")
    _add_common(p)
    p.add_argument("question", nargs="+")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("chat", help="interactive questions with follow-ups")
    _add_common(p)
    p.set_defaults(func=cmd_chat)
    p = sub.add_parser("list", help="list the indexed articles (id, title, file)")
    _add_common(p)
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("remove", help="remove one article from the index (asks first)")
    _add_common(p)
    p.add_argument("article", nargs="+", metavar="ID_OR_TITLE")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_remove)
    register_eval(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError as exc:
        if not _stdout_closed():
            print(f"error: {exc}", file=sys.stderr)
            return 2
        # The reader went away (`... | head -1`): not an error. Whatever is still buffered goes
        # nowhere, so the interpreter's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (AssistantError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _stdout_closed() -> bool:
    """True when stdout is a pipe whose reading end is gone (poll reports an error on it)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


if __name__ == "__main__":
    sys.exit(main())
