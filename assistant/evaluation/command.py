"""The `assistant eval` sub-command: argument parsing, exit codes and terminal output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from assistant.evaluation.compare import compare, load_report
from assistant.evaluation.errors import EvalError
from assistant.evaluation.gate import FLAGS, failures, parse_threshold
from assistant.evaluation.report import summary_text
from assistant.evaluation.run import AssistantFactory, run_eval

DESCRIPTION = ("Ask every question of a question set through the assistant and report answer "
               "accuracy, citations, retrieval recall, abstention and latency.")
EXIT_OK, EXIT_GATE, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The eval options, shared by `assistant eval` and `python -m assistant.evaluation`."""
    parser.add_argument("questions", nargs="?", metavar="QUESTIONS",
                        help="question set (.jsonl or .json)")
    parser.add_argument("--corpus", action="append", metavar="DIR",
                        help="corpus directory or file; repeat for several (default: corpus/)")
    parser.add_argument("--index-dir", metavar="DIR", help="where the index is built or reused")
    parser.add_argument("--out", metavar="DIR",
                        help="report directory (default: <data_dir>/evals/<UTC timestamp>/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        dest="overrides", help="override one setting; repeat for several")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"),
                        help="show what changed between two report.json files "
                             "(thresholds then gate B)")
    for flag, (metric, upper) in FLAGS.items():
        bound = "at most" if upper else "at least"
        parser.add_argument(flag, metavar="X", dest=_dest(flag),
                            help=f"exit 1 unless {metric} is {bound} X (0..1)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `eval` sub-command; its `func(args)` returns the exit code."""
    parser = subparsers.add_parser("eval", help="evaluate the assistant on a question set",
                                   description=DESCRIPTION)
    add_arguments(parser)
    parser.set_defaults(func=handle)
    return parser


def main(argv: Sequence[str] | None = None, *,
         assistant_factory: AssistantFactory | None = None) -> int:
    """Run the command from an argument list, as `python -m assistant.evaluation` does."""
    parser = argparse.ArgumentParser(prog="assistant eval", description=DESCRIPTION)
    add_arguments(parser)
    return handle(parser.parse_args(argv), assistant_factory=assistant_factory)


def handle(args: argparse.Namespace, *,
           assistant_factory: AssistantFactory | None = None) -> int:
    """Do what the parsed arguments ask; print one line and return 2 on a user error."""
    try:
        return _handle(args, assistant_factory)
    except EvalError as exc:
        print(f"assistant eval: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE


def _handle(args: argparse.Namespace, factory: AssistantFactory | None) -> int:
    thresholds = [parse_threshold(flag, getattr(args, _dest(flag)))
                  for flag in FLAGS if getattr(args, _dest(flag), None) is not None]
    if args.compare:
        if args.questions:
            raise EvalError("give either QUESTIONS or --compare A B, not both.")
        a, b = (load_report(path) for path in args.compare)
        print(compare(a, b))
        return _gate(failures(b["metrics"], thresholds))
    if not args.questions:
        raise EvalError("no question file given; usage: assistant eval QUESTIONS "
                        "or assistant eval --compare A/report.json B/report.json.")
    run = run_eval(args.questions, corpus=args.corpus, index_dir=args.index_dir,
                   out_dir=args.out, overrides=parse_settings(args.overrides),
                   thresholds=thresholds, assistant_factory=factory,
                   progress=not args.no_progress)
    print(summary_text(run.report))
    print(f"report: {run.paths['md']}")
    return _gate(run.failures)


def parse_settings(items: Sequence[str]) -> dict[str, str]:
    """KEY=VALUE strings to a dict; the engine coerces the values."""
    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise EvalError(f"--set expects KEY=VALUE with a setting name as KEY, got '{item}'.")
        overrides[key] = value.strip()
    return overrides


def _gate(missed: list[str]) -> int:
    for line in missed:
        print(f"FAILED {line}")
    if missed:
        return EXIT_GATE
    return EXIT_OK


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")
