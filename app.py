"""Start the web chat on the project's corpus (embedded Chroma, bundled model, no LLM)."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.web import launch  # noqa: E402  (the variables above must come first)

if __name__ == "__main__":
    launch()
