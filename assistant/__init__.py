"""Article Q&A assistant: grounded answers cited to the exact source sentence, offline."""

from .assistant import Assistant
from .errors import AssistantError
from .settings import Settings
from .types import Answer, Citation, Passage

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "Passage", "Settings"]
