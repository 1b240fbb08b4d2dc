"""The models PSOpenAI warns about before a request that names one: its table of retired models, as data.

PSOpenAI 4.49.0 keeps a table of models and the dates OpenAI shuts them down
(``Private/Assert-DeprecationModel.ps1``, from https://platform.openai.com/docs/deprecations).
Before each request whose body names a model in it, the original writes a warning: that the model
*has been* discontinued (on or after its date), or *will be* (within the 30 days before it).  A
warning is a warning: ``-WarningAction Stop`` then ends the command before anything is sent.

The table below is the original's, date for date; the sentences are its own.  Updating it means
editing the table alone.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping

__all__ = [
    "SHUTDOWN_DATES",
    "NOTICE",
    "DISCONTINUED",
    "WILL_BE_DISCONTINUED",
    "deprecation_warning",
    "clock",
]

SHUTDOWN_DATES: Mapping[str, str] = {
    "code-davinci-001": "2023-03-23",
    "code-davinci-002": "2023-03-23",
    "code-cushman-001": "2023-03-23",
    "code-cushman-002": "2023-03-23",
    "text-ada-001": "2024-01-04",
    "text-babbage-001": "2024-01-04",
    "text-curie-001": "2024-01-04",
    "text-davinci-001": "2024-01-04",
    "text-davinci-002": "2024-01-04",
    "text-davinci-003": "2024-01-04",
    "ada": "2024-01-04",
    "babbage": "2024-01-04",
    "curie": "2024-01-04",
    "davinci": "2024-01-04",
    "text-davinci-edit-001": "2024-01-04",
    "code-davinci-edit-001": "2024-01-04",
    "text-similarity-ada-001": "2024-01-04",
    "text-search-ada-doc-001": "2024-01-04",
    "text-search-ada-query-001": "2024-01-04",
    "code-search-ada-code-001": "2024-01-04",
    "code-search-ada-text-001": "2024-01-04",
    "text-similarity-babbage-001": "2024-01-04",
    "text-search-babbage-doc-001": "2024-01-04",
    "text-search-babbage-query-001": "2024-01-04",
    "code-search-babbage-code-001": "2024-01-04",
    "code-search-babbage-text-001": "2024-01-04",
    "text-similarity-curie-001": "2024-01-04",
    "text-search-curie-doc-001": "2024-01-04",
    "text-search-curie-query-001": "2024-01-04",
    "text-similarity-davinci-001": "2024-01-04",
    "text-search-davinci-doc-001": "2024-01-04",
    "text-search-davinci-query-001": "2024-01-04",
    "gpt-3.5-turbo-0613": "2024-09-13",
    "gpt-3.5-turbo-16k-0613": "2024-09-13",
    "gpt-4-vision-preview": "2024-12-06",
    "gpt-4-1106-vision-preview": "2024-12-06",
    "gpt-4-32k": "2025-06-06",
    "gpt-4-32k-0613": "2025-06-06",
    "gpt-4-32k-0314": "2025-06-06",
    "gpt-4.5-preview": "2025-07-14",
    "o1-preview": "2025-07-28",
    "gpt-4o-audio-preview-2024-10-01": "2025-09-10",
    "gpt-4o-realtime-preview-2024-10-01": "2025-09-10",
    "o1-mini": "2025-10-27",
    "text-moderation-007": "2025-10-27",
    "text-moderation-stable": "2025-10-27",
    "text-moderation-latest": "2025-10-27",
    "codex-mini-latest": "2026-01-16",
    "chatgpt-4o-latest": "2026-02-17",
    "gpt-4-0314": "2026-03-26",
    "gpt-4-1106-preview": "2026-03-26",
    "gpt-4-0125-preview": "2026-03-26",
    "gpt-4o-realtime-preview": "2026-05-07",
    "gpt-4o-mini-realtime-preview": "2026-05-07",
    "gpt-4o-audio-preview": "2026-05-07",
    "gpt-4o-mini-audio-preview": "2026-05-07",
    "dall-e-2": "2026-05-12",
    "dall-e-3": "2026-05-12",
    "computer-use-preview": "2026-07-23",
    "gpt-5-chat-latest": "2026-07-23",
    "gpt-5-codex": "2026-07-23",
    "gpt-5.1-chat-latest": "2026-07-23",
    "gpt-5.1-codex": "2026-07-23",
    "gpt-5.1-codex-max": "2026-07-23",
    "gpt-5.1-codex-mini": "2026-07-23",
    "o3-deep-research": "2026-07-23",
    "o4-mini-deep-research": "2026-07-23",
    "gpt-5.2-codex": "2026-07-23",
    "gpt-5.2-chat-latest": "2026-08-10",
    "gpt-5.3-chat-latest": "2026-08-10",
    "sora-2": "2026-09-24",
    "sora-2-pro": "2026-09-24",
    "gpt-3.5-turbo-instruct": "2026-09-28",
    "babbage-002": "2026-09-28",
    "davinci-002": "2026-09-28",
    "gpt-3.5-turbo-1106": "2026-09-28",
    "gpt-3.5-turbo": "2026-10-23",
    "gpt-4": "2026-10-23",
    "gpt-4.1-nano": "2026-10-23",
    "gpt-image-1": "2026-10-23",
    "o1": "2026-10-23",
    "o1-pro": "2026-10-23",
    "o3-mini": "2026-10-23",
    "o4-mini": "2026-10-23",
    "gpt-image-1-mini": "2026-12-01",
    "gpt-image-1.5": "2026-12-01",
    "chatgpt-image-latest": "2026-12-01",
}
"""Each model PSOpenAI 4.49.0 warns about, with the day it is shut down (``yyyy-MM-dd``)."""

NOTICE = _dt.timedelta(days=30)
"""How long before its date a model's coming shutdown is announced."""

DISCONTINUED = "The {model} model has been discontinued on {date}. Please consider using a different model."
WILL_BE_DISCONTINUED = (
    "The {model} model will be discontinued on {date}. Please consider using a different model."
)

# The original's table is a PowerShell hashtable, whose keys match without regard to case.
_BY_LOWER = {name.lower(): day for name, day in SHUTDOWN_DATES.items()}

clock: Callable[[], _dt.datetime] = _dt.datetime.now
"""The local wall clock the dates are compared with (the original compares local time with the
date's local midnight); a hook, so that a test can set the day."""


def deprecation_warning(model: str, now: _dt.datetime) -> str | None:
    """The warning the original writes for ``model`` at local time ``now``, or None.

    On or after the model's date it has been discontinued; from 30 days before it, it will be;
    earlier, and for a model not in the table, nothing is said.  The model is named as given.
    """
    day = _BY_LOWER.get(model.lower())
    if day is None:
        return None
    shutdown = _dt.datetime.fromisoformat(day)
    if now >= shutdown:
        return DISCONTINUED.format(model=model, date=day)
    if now >= shutdown - NOTICE:
        return WILL_BE_DISCONTINUED.format(model=model, date=day)
    return None
