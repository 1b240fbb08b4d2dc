"""The result types of the stored-completions calls, field for field as the official SDK declares
them (openai 3.63: ``openai.types.chat`` and ``openai.types.completion_usage``).

Each class is its table of fields, in the SDK's declaration order (which is the key order of
every dump): a field without a default is one the SDK declares required, ``= None`` one it
declares optional.  Loosely built from what the server sends (``_models``), every declared field
reads ``None`` when the server left it out, required or not.  Where the SDK has two classes of the
same name in two modules (``Choice`` of a completion and of a chunk), the second is defined here
under another Python name and keeps the SDK's name for ``repr``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from ._construct import Discriminator
from ._models import BaseModel

__all__ = [
    "ChatCompletion",
    "ChatCompletionMessage",
    "ChatCompletionStoreMessage",
    "ChatCompletionDeleted",
    "ChatCompletionChunk",
    "ChatCompletionAudio",
    "ChatCompletionMessageToolCall",
    "ChatCompletionMessageFunctionToolCall",
    "ChatCompletionMessageCustomToolCall",
    "ChatCompletionTokenLogprob",
    "ChatCompletionContentPartText",
    "ChatCompletionContentPartImage",
    "CompletionUsage",
    "CompletionTokensDetails",
    "PromptTokensDetails",
    "Choice",
    "ChoiceLogprobs",
    "Annotation",
    "AnnotationURLCitation",
    "FunctionCall",
    "Function",
    "Custom",
    "TopLogprob",
    "Moderation",
    "ModerationInputModerationResults",
    "ModerationInputModerationResultsResult",
    "ModerationInputError",
    "ModerationOutputModerationResults",
    "ModerationOutputModerationResultsResult",
    "ModerationOutputError",
    "ImageURL",
    "PromptCacheBreakpoint",
    "ChunkChoice",
    "ChoiceDelta",
    "ChoiceDeltaAudio",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
ServiceTier = Literal["auto", "default", "flex", "scale", "priority", "fast"]


# -- usage ----------------------------------------------------------------------------------------


class CompletionTokensDetails(BaseModel):
    """How the completion's tokens divide."""

    accepted_prediction_tokens: int | None = None
    audio_tokens: int | None = None
    reasoning_tokens: int | None = None
    rejected_prediction_tokens: int | None = None
    text_tokens: int | None = None


class PromptTokensDetails(BaseModel):
    """How the prompt's tokens divide."""

    audio_tokens: int | None = None
    cache_write_tokens: int | None = None
    cached_tokens: int | None = None
    image_tokens: int | None = None
    text_tokens: int | None = None


class CompletionUsage(BaseModel):
    """Token counts (declared completion, prompt, total: the key order of its dumps)."""

    completion_tokens: int
    prompt_tokens: int
    total_tokens: int
    completion_tokens_details: CompletionTokensDetails | None = None
    prompt_tokens_details: PromptTokensDetails | None = None


# -- log probabilities ----------------------------------------------------------------------------


class TopLogprob(BaseModel):
    """One of the most likely tokens at a position."""

    token: str
    bytes: list[int] | None = None
    logprob: float


class ChatCompletionTokenLogprob(BaseModel):
    """A token's log probability, with the most likely alternatives."""

    token: str
    bytes: list[int] | None = None
    logprob: float
    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(BaseModel):
    """The log probabilities of a choice's content and refusal tokens."""

    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None


# -- moderation -----------------------------------------------------------------------------------


class ModerationInputModerationResultsResult(BaseModel):
    """One moderation result."""

    categories: dict[str, bool]
    category_applied_input_types: dict[str, list[Literal["text", "image"]]]
    category_scores: dict[str, float]
    flagged: bool
    model: str
    type: Literal["moderation_result"]


class ModerationOutputModerationResultsResult(ModerationInputModerationResultsResult):
    """One moderation result (of the output)."""


class ModerationInputModerationResults(BaseModel):
    """The moderation results of the input."""

    model: str
    results: list[ModerationInputModerationResultsResult]
    type: Literal["moderation_results"]


class ModerationOutputModerationResults(BaseModel):
    """The moderation results of the output."""

    model: str
    results: list[ModerationOutputModerationResultsResult]
    type: Literal["moderation_results"]


class ModerationInputError(BaseModel):
    """A moderation of the input that failed."""

    code: str
    message: str
    type: Literal["error"]


class ModerationOutputError(ModerationInputError):
    """A moderation of the output that failed."""


class Moderation(BaseModel):
    """The moderation of the input and the output."""

    input: Annotated[ModerationInputModerationResults | ModerationInputError, Discriminator("type")]
    output: Annotated[ModerationOutputModerationResults | ModerationOutputError, Discriminator("type")]


# -- the message ----------------------------------------------------------------------------------


class AnnotationURLCitation(BaseModel):
    """Where a URL citation points in the text."""

    end_index: int
    start_index: int
    title: str
    url: str


class Annotation(BaseModel):
    """An annotation of the message's text."""

    type: Literal["url_citation"]
    url_citation: AnnotationURLCitation


class ChatCompletionAudio(BaseModel):
    """An audio reply."""

    id: str
    data: str
    expires_at: int
    transcript: str


class FunctionCall(BaseModel):
    """A function call (deprecated by the API in favour of tool calls)."""

    arguments: str
    name: str


class Function(BaseModel):
    """The function a tool call calls."""

    arguments: str
    name: str


class ChatCompletionMessageFunctionToolCall(BaseModel):
    """A tool call of a function."""

    id: str
    function: Function
    type: Literal["function"]


class Custom(BaseModel):
    """The custom tool a tool call calls."""

    input: str
    name: str


class ChatCompletionMessageCustomToolCall(BaseModel):
    """A tool call of a custom tool."""

    id: str
    custom: Custom
    type: Literal["custom"]


ChatCompletionMessageToolCall = ChatCompletionMessageFunctionToolCall
"""The SDK's older name of the function tool call."""

ChatCompletionMessageToolCallUnion = Annotated[
    ChatCompletionMessageFunctionToolCall | ChatCompletionMessageCustomToolCall, Discriminator("type")
]


class ChatCompletionMessage(BaseModel):
    """The reply message of a choice."""

    content: str | None = None
    refusal: str | None = None
    role: Literal["assistant"]
    annotations: list[Annotation] | None = None
    audio: ChatCompletionAudio | None = None
    function_call: FunctionCall | None = None
    tool_calls: list[ChatCompletionMessageToolCallUnion] | None = None


class Choice(BaseModel):
    """One choice of a completion."""

    finish_reason: FinishReason
    index: int
    logprobs: ChoiceLogprobs | None = None
    message: ChatCompletionMessage


class ChatCompletion(BaseModel):
    """A chat completion."""

    id: str
    choices: list[Choice]
    created: int
    model: str
    object: Literal["chat.completion"]
    metadata: dict[str, str] | None = None
    moderation: Moderation | None = None
    service_tier: ServiceTier | None = None
    system_fingerprint: str | None = None
    usage: CompletionUsage | None = None


# -- stored messages and deletion ------------------------------------------------------------------


class PromptCacheBreakpoint(BaseModel):
    """Where a prompt cache entry ends."""

    mode: Literal["explicit"]
    ttl: Literal["30m", "12h"] | None = None


class ChatCompletionContentPartText(BaseModel):
    """A text part of a stored message's content."""

    text: str
    type: Literal["text"]
    prompt_cache_breakpoint: PromptCacheBreakpoint | None = None


class ImageURL(BaseModel):
    """An image's address and detail."""

    url: str
    detail: Literal["auto", "low", "high", "original"] | None = None


class ChatCompletionContentPartImage(BaseModel):
    """An image part of a stored message's content."""

    image_url: ImageURL
    type: Literal["image_url"]
    prompt_cache_breakpoint: PromptCacheBreakpoint | None = None


class ChatCompletionStoreMessage(ChatCompletionMessage):
    """A stored message of a completion: the message's fields, then its id and content parts.
    (The SDK types ``role`` as ``"assistant"``; stored request messages come with their own.)"""

    id: str
    content_parts: list[ChatCompletionContentPartText | ChatCompletionContentPartImage] | None = None


class ChatCompletionDeleted(BaseModel):
    """The answer to a delete."""

    id: str
    deleted: bool
    object: Literal["chat.completion.deleted"]


# -- streamed chunks --------------------------------------------------------------------------------


class ChoiceDeltaAudio(BaseModel):
    """A piece of an audio reply."""

    id: str | None = None
    data: str | None = None
    expires_at: int | None = None
    transcript: str | None = None


class ChoiceDeltaFunctionCall(BaseModel):
    """A piece of a function call."""

    arguments: str | None = None
    name: str | None = None


class ChoiceDeltaToolCallFunction(BaseModel):
    """A piece of a tool call's function."""

    arguments: str | None = None
    name: str | None = None


class ChoiceDeltaToolCall(BaseModel):
    """A piece of a tool call."""

    index: int
    id: str | None = None
    function: ChoiceDeltaToolCallFunction | None = None
    type: Literal["function"] | None = None


class ChoiceDelta(BaseModel):
    """What a chunk adds to a choice."""

    audio: ChoiceDeltaAudio | None = None
    content: str | None = None
    function_call: ChoiceDeltaFunctionCall | None = None
    refusal: str | None = None
    role: Literal["developer", "system", "user", "assistant", "tool"] | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None


class ChunkChoice(BaseModel):
    """One choice of a chunk (the SDK's ``chat_completion_chunk.Choice``)."""

    delta: ChoiceDelta
    index: int
    finish_reason: FinishReason | None = None
    logprobs: ChoiceLogprobs | None = None


ChunkChoice.__name__ = ChunkChoice.__qualname__ = "Choice"


class ChatCompletionChunk(BaseModel):
    """One chunk of a streamed completion (``choices`` is empty in the final usage chunk)."""

    id: str
    choices: list[ChunkChoice]
    created: int
    model: str
    object: Literal["chat.completion.chunk"]
    moderation: Moderation | None = None
    obfuscation: str | None = None
    service_tier: ServiceTier | None = None
    system_fingerprint: str | None = None
    usage: CompletionUsage | None = None
