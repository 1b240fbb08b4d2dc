"""The SDK-shaped client's result types against the official package's: the same declared fields,
and, for any data a server could send, the same values, dumps, JSON text, repr, equality and
iteration (the official models built the way the SDK builds a response, loosely)."""

from __future__ import annotations

import json
import types as pytypes
import typing
import warnings
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psopenai_py.client import types as ours
from psopenai_py.client._dump import json_text
from psopenai_py.client._models import BaseModel

openai = pytest.importorskip("openai")
pydantic = pytest.importorskip("pydantic")

from openai.types import CompletionUsage as TheirUsage  # noqa: E402
from openai.types.chat import (  # noqa: E402
    ChatCompletion as TheirCompletion,
)
from openai.types.chat import (  # noqa: E402
    ChatCompletionChunk as TheirChunk,
)
from openai.types.chat import (  # noqa: E402
    ChatCompletionDeleted as TheirDeleted,
)
from openai.types.chat import (  # noqa: E402
    ChatCompletionMessage as TheirMessage,
)
from openai.types.chat import (  # noqa: E402
    ChatCompletionStoreMessage as TheirStoreMessage,
)

PAIRS = [
    (ours.ChatCompletion, TheirCompletion),
    (ours.ChatCompletionChunk, TheirChunk),
    (ours.ChatCompletionStoreMessage, TheirStoreMessage),
    (ours.ChatCompletionDeleted, TheirDeleted),
    (ours.ChatCompletionMessage, TheirMessage),
    (ours.CompletionUsage, TheirUsage),
]


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, pytypes.UnionType)


def _official_models(annotation: Any) -> list[type]:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _official_models(arg)]


def _official_fields(cls: type) -> dict[str, Any]:
    """An official model's declared fields (pydantic's ``model_fields``)."""
    fields: dict[str, Any] = getattr(cls, "model_fields")  # noqa: B009 (any official class)
    return fields


def _walk(
    ours_cls: type[BaseModel], theirs_cls: type, seen: set[tuple[type, type]]
) -> list[tuple[type, type]]:
    """Every pair of corresponding classes under a top-level pair, by field."""
    if (ours_cls, theirs_cls) in seen:
        return []
    seen.add((ours_cls, theirs_cls))
    found = [(ours_cls, theirs_cls)]
    our_fields = ours_cls.model_fields
    for name, field in _official_fields(theirs_cls).items():
        their_models = _official_models(field.annotation)
        our_models = _our_models(our_fields[name].annotation) if name in our_fields else []
        for theirs_inner, ours_inner in zip(their_models, our_models, strict=True):
            found += _walk(ours_inner, theirs_inner, seen)
    return found


def _our_models(annotation: Any) -> list[type[BaseModel]]:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _our_models(arg)]


ALL_PAIRS = [pair for top in PAIRS for pair in _walk(*top, set())]


def _discriminated(annotation: Any, marks: Any = ()) -> bool:
    """Whether a union is told apart by a field (the official ``PropertyInfo(discriminator=...)``
    or this package's ``Discriminator``), in ``Annotated`` or in a field's metadata."""
    while get_origin(annotation) is typing.Annotated:
        marks = (*marks, *get_args(annotation)[1:])
        annotation = get_args(annotation)[0]
    return any(getattr(m, "discriminator", None) or type(m).__name__ == "Discriminator" for m in marks)


def _shape(annotation: Any, marks: Any = ()) -> str:
    """An annotation as comparable text: the class names of models, the rest by structure; a
    discriminated union marked so."""
    if _discriminated(annotation, marks):
        return "Discriminated[" + _shape(_strip(annotation)) + "]"
    annotation = _strip(annotation)
    if isinstance(annotation, type):
        return annotation.__name__
    if annotation is type(None) or annotation is None:
        return "None"
    origin = get_origin(annotation)
    if _is_union(annotation):
        return "Union[" + ", ".join(_shape(a) for a in get_args(annotation)) + "]"
    if origin is Literal:
        return repr(get_args(annotation))
    name = getattr(origin, "__name__", str(origin))
    return f"{name}[" + ", ".join(_shape(a) for a in get_args(annotation)) + "]"


@pytest.mark.parametrize(("ours_cls", "theirs_cls"), ALL_PAIRS, ids=lambda c: c.__name__)
def test_every_declared_field_in_the_sdks_order_type_and_requiredness(ours_cls, theirs_cls):
    assert ours_cls.__name__ == theirs_cls.__name__
    expected = {
        n: (_shape(f.annotation, f.metadata), f.is_required()) for n, f in theirs_cls.model_fields.items()
    }
    actual = {n: (_shape(f.annotation), f.is_required()) for n, f in ours_cls.model_fields.items()}
    assert list(actual) == list(expected)
    assert actual == expected


def test_the_walk_reaches_the_nested_types():
    names = {ours_cls.__name__ for ours_cls, _ in ALL_PAIRS}
    assert {"Choice", "ChoiceDelta", "PromptTokensDetails", "ChatCompletionMessageCustomToolCall"} <= names
    assert {"ModerationOutputModerationResultsResult", "ImageURL", "TopLogprob"} <= names


# -- any data, both ways ---------------------------------------------------------------------------

# Text without lone surrogates (which pydantic cannot write as JSON at all), keys also without
# NUL (which it cannot write in a model's extra key): no server sends either.
TEXT = st.characters(blacklist_categories=["Cs"])
KEYS = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=4)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(TEXT, max_size=6),
    st.sampled_from(
        ["0", "1", "5", "5.0", " 7 ", "true", "no", "1e3", "", "assistant", "function", "custom"]
    ),
)
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)


def _value(annotation: Any, depth: int) -> st.SearchStrategy[Any]:
    """Data of an official annotation's shape, or near it, or anything."""
    annotation = _strip(annotation)
    origin = get_origin(annotation)
    anything = ANY_JSON if depth < 3 else JSON_LEAF
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return st.one_of(_data(annotation, depth + 1), anything) if depth < 3 else anything
    if _is_union(annotation):
        return st.one_of(*(_value(a, depth) for a in get_args(annotation)))
    if annotation is type(None):
        return st.none()
    if origin is Literal:
        return st.one_of(st.sampled_from(get_args(annotation)), anything)
    if origin in (list, typing.List):  # noqa: UP006
        (item,) = get_args(annotation)
        return st.one_of(st.lists(_value(item, depth + 1), max_size=3), anything)
    if origin in (dict, typing.Dict):  # noqa: UP006
        _, item = get_args(annotation)
        return st.one_of(st.dictionaries(KEYS, _value(item, depth + 1), max_size=3), anything)
    simple = {
        str: st.text(TEXT, max_size=8),
        int: st.integers(-(2**40), 2**40),
        float: st.one_of(st.floats(allow_nan=False), st.integers(-100, 100)),
        bool: st.booleans(),
    }.get(annotation)
    return st.one_of(simple, anything) if simple is not None else anything


@st.composite
def _data_of(draw: Callable[..., Any], cls: type, depth: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in _official_fields(cls).items():
        if draw(st.integers(0, 9)) < 7:
            data[name] = draw(_value(field.annotation, depth))
    for extra in draw(st.lists(st.sampled_from(["x_extra", "object_id", "zz"]), unique=True, max_size=2)):
        data[extra] = draw(ANY_JSON)
    return data


def _data(cls: type, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    return _data_of(cls, depth)


DUMPS: list[tuple[str, Callable[[Any], Any]]] = [
    ("model_dump", lambda m: m.model_dump()),
    ("model_dump unset", lambda m: m.model_dump(exclude_unset=True)),
    ("model_dump none", lambda m: m.model_dump(exclude_none=True)),
    ("model_dump defaults", lambda m: m.model_dump(exclude_defaults=True)),
    ("model_dump json", lambda m: m.model_dump(mode="json")),
    (
        "model_dump json unset none",
        lambda m: m.model_dump(mode="json", exclude_unset=True, exclude_none=True),
    ),
    ("model_dump by_alias", lambda m: m.model_dump(by_alias=True)),
    ("model_dump_json", lambda m: m.model_dump_json()),
    ("model_dump_json indent", lambda m: m.model_dump_json(indent=2)),
    ("model_dump_json ascii", lambda m: m.model_dump_json(indent=3, ensure_ascii=True, exclude_none=True)),
    ("to_dict", lambda m: m.to_dict()),
    ("to_dict json", lambda m: m.to_dict(mode="json", exclude_unset=False)),
    ("to_dict none", lambda m: m.to_dict(exclude_none=True)),
    ("to_json", lambda m: m.to_json()),
    ("to_json compact", lambda m: m.to_json(indent=None)),
    ("repr", repr),
    ("str", str),
    ("iteration", lambda m: [name for name, _ in m]),
    ("fields set", lambda m: sorted(m.model_fields_set)),
    ("extra", lambda m: m.model_extra),
]


def _same_json(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to itself (a float NaN is kept in python-mode dumps)."""
    return json.dumps(a, sort_keys=False, default=repr) == json.dumps(b, sort_keys=False, default=repr)


@pytest.mark.parametrize(("ours_cls", "theirs_cls"), PAIRS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_data_reads_dumps_and_prints_as_the_sdks(ours_cls, theirs_cls, data):
    sent = data.draw(_data(theirs_cls))
    mine, theirs = ours_cls.construct(**sent), theirs_cls.construct(**sent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns when it dumps a value of the wrong type
        for label, dump in DUMPS:
            assert _same_json(dump(mine), dump(theirs)), label
        for name in theirs_cls.model_fields:
            assert _same_json(_plain(getattr(mine, name)), _plain(getattr(theirs, name))), name
    assert (mine == ours_cls.construct(**sent)) is (theirs == theirs_cls.construct(**sent)) is True


def _plain(value: Any) -> Any:
    if isinstance(value, (BaseModel, pydantic.BaseModel)):
        return [type(value).__name__, value.model_dump()]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# -- the behaviours around the data ---------------------------------------------------------------

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "x_extra": {"a": 1},
}


def test_absent_declared_fields_read_none_at_every_depth_and_extras_are_kept():
    got = ours.ChatCompletion.construct(**COMPLETION)
    message = got.choices[0].message
    assert (message.tool_calls, message.audio, message.function_call, got.moderation, got.usage) == (
        None,
    ) * 5
    assert got.x_extra == {"a": 1} and got.to_dict()["x_extra"] == {"a": 1}
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = got.nothing


def test_request_id_belongs_to_the_top_object_only_and_to_no_dump():
    got = ours.ChatCompletion.construct(**COMPLETION)
    got._request_id = "req_1"
    twin = ours.ChatCompletion.construct(**COMPLETION)
    twin._request_id = "req_2"
    assert got == twin and "req_" not in repr(got) + got.to_json() + got.model_dump_json()
    with pytest.raises(AttributeError):
        _ = got.choices[0]._request_id


def test_assignment_sets_a_field_or_an_extra_and_copies_are_their_own():
    got = ours.ChatCompletion.construct(id="a")
    got.model = "m2"
    got.note = "n"
    assert got.model_fields_set == {"id", "model"} and got.model_extra == {"note": "n"}
    copied = got.model_copy(update={"id": "b"}, deep=True)
    assert (copied.id, got.id, copied.note) == ("b", "a", "n")


def test_models_are_unhashable_and_never_equal_a_dict():
    got = ours.ChatCompletionDeleted.construct(id="a", deleted=True, object="chat.completion.deleted")
    with pytest.raises(TypeError):
        hash(got)
    assert got != got.to_dict()


@pytest.mark.parametrize(
    "number",
    [0.0, 1.0, -0.0, 1e-7, 1.5e-5, 9.99e-5, 1e-4, 1e15, 1e16, 1.5e16, 1e22, 5e-324, 1.7976931348623157e308],
)
def test_floats_are_written_as_pydantic_writes_them(number):
    assert json_text(number) == pydantic.TypeAdapter(float).dump_json(number).decode()


def test_a_page_type_is_named_for_its_items_and_built_loosely():
    from psopenai_py.client import SyncCursorPage
    from psopenai_py.client.types import ChatCompletion

    page_cls = SyncCursorPage[ChatCompletion]
    assert (
        page_cls is SyncCursorPage[ChatCompletion] and page_cls.__name__ == "SyncCursorPage[ChatCompletion]"
    )
    page = page_cls.construct(data=[COMPLETION], has_more=False, object="list")
    assert isinstance(page.data[0], ChatCompletion) and page.object == "list"
    assert repr(page).startswith("SyncCursorPage[ChatCompletion](data=[ChatCompletion(id='chatcmpl-1'")
