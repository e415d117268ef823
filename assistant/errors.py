"""Errors a user can hit; each message says what went wrong and what to do, in one sentence."""


class AssistantError(Exception):
    """Base of every error the assistant reports to a user instead of a traceback."""


class SettingsError(AssistantError, ValueError):
    """A setting was given a value it cannot take."""


class EmbeddingModelError(AssistantError):
    """The configured embedding model cannot be loaded."""


class IndexUnusable(AssistantError):
    """The index cannot be used as it is (other model, another writer)."""


class StoreUnavailable(AssistantError):
    """The configured vector store (a Chroma server) cannot be reached."""


class LLMUnavailable(AssistantError):
    """The configured LLM server failed, timed out or could not be reached."""


class CorpusError(AssistantError):
    """A corpus path is missing, of the wrong kind, or holds no article; nothing was changed."""


class ArticleNotFound(AssistantError):
    """No indexed article (or more than one) answers to the id or title given."""
