"""The one error type of the evaluation command: a problem the user can fix, told in one line."""


class EvalError(Exception):
    """A user-facing problem (bad file, bad flag); the command prints it and exits with status 2."""
