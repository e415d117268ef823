"""Start the web chat on the project's corpus plus an uploads folder (embedded Chroma, bundled model, no LLM).

Bound to 127.0.0.1 unless GRADIO_SERVER_NAME says otherwise; ASSISTANT_CORPUS_DIR and
ASSISTANT_DATA_DIR choose the articles and where the index and uploaded articles live.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.web import launch  # noqa: E402  (the variables above must come first)

if __name__ == "__main__":
    launch()
