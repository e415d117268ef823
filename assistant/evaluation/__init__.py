"""Evaluation: question sets in, reports out (`assistant eval`)."""

from assistant.evaluation.command import handle, main, register
from assistant.evaluation.errors import EvalError
from assistant.evaluation.questions import Question, load_questions
from assistant.evaluation.run import EvalRun, run_eval

__all__ = ["EvalError", "EvalRun", "Question", "handle", "load_questions", "main", "register",
           "run_eval"]
