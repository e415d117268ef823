"""Article Q&A assistant: grounded answers cited to the exact source sentence, offline."""

import os

# Nothing leaves the machine. onnxruntime's telemetry (a DNS look-up of its collector on every
# start, and host details queued under ~/.cache) is off whatever the environment says; Gradio's
# analytics and the Hugging Face hub stay off unless the user turns them on.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from .assistant import Assistant  # noqa: E402  (after the variables above)
from .errors import AssistantError  # noqa: E402
from .settings import Settings  # noqa: E402
from .types import Answer, Citation, Passage  # noqa: E402

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "Passage", "Settings"]
