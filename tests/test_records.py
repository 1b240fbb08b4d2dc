"""Record classes: constructor, defaults, immutability, fields, equality and repr.

The records of a command line are made by ``psopenai_py.records.Record`` (without the
dataclasses machinery); these tests hold its constructor to a dataclass's rules, argument by
argument, and check that a record that holds a secret keeps it out of its repr.
"""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psopenai_py.masking import mask_organization
from psopenai_py.records import Record
from psopenai_py.secret import Secret
from psopenai_py.settings import OpenAIContext, SettingsRequest


class Point(Record):
    x: int
    y: int
    label: str = "p"
    """A field's docstring is allowed."""
    tags: tuple[str, ...] = ()
    KIND: ClassVar[str] = "point"  # a class variable, not a field


class Counter(Record, frozen=False):
    count: int = 0


class Value(Record, eq=True):
    number: int
    text: str = ""


class LooseValue(Record, frozen=False, eq=True):
    number: int = 0


@dataclasses.dataclass(frozen=True)
class PointData:
    """The same fields as a dataclass: the reference for the constructor's rules."""

    x: int
    y: int
    label: str = "p"
    tags: tuple[str, ...] = ()


FIELDS = ("x", "y", "label", "tags")
values = st.one_of(st.integers(), st.text(max_size=5), st.none())


def outcome(make: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """What a constructor call does: the values it holds, or the kind of error it raises."""
    try:
        made = make(*args, **kwargs)
    except TypeError:
        return ("TypeError", ())
    return ("made", tuple(getattr(made, f) for f in FIELDS))


@given(
    args=st.lists(values, max_size=5).map(tuple),
    kwargs=st.dictionaries(st.sampled_from([*FIELDS, "z", "KIND"]), values, max_size=5),
)
def test_the_constructor_binds_as_a_dataclass_does(args, kwargs):
    assert outcome(Point, args, kwargs) == outcome(PointData, args, kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "held"),
    [
        ((1, 2), {}, (1, 2, "p", ())),
        ((1,), {"y": 2, "tags": ("a",)}, (1, 2, "p", ("a",))),
        ((), {"label": "q", "y": 4, "x": 3}, (3, 4, "q", ())),
        ((1, 2, "r", ("t",)), {}, (1, 2, "r", ("t",))),
    ],
)
def test_arguments_by_position_keyword_and_default(args, kwargs, held):
    point = Point(*args, **kwargs)
    assert tuple(getattr(point, f) for f in FIELDS) == held


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        ((), {"y": 1}, "missing required argument: 'x'"),
        ((1, 2, 3, 4, 5), {}, "takes 4 positional arguments, 5 given"),
        ((1, 2), {"x": 3}, "multiple values for argument 'x'"),
        ((1, 2), {"colour": "red"}, "unexpected keyword argument 'colour'"),
        ((1, 2), {"KIND": "other"}, "unexpected keyword argument 'KIND'"),
    ],
)
def test_wrong_arguments_are_named(args, kwargs, words):
    with pytest.raises(TypeError, match=words):
        Point(*args, **kwargs)


def test_an_instance_holds_its_fields_and_class_variables_stay_on_the_class():
    point = Point(1, 2)
    assert Point._record_fields == FIELDS
    assert vars(point) == {"x": 1, "y": 2, "label": "p", "tags": ()}
    assert Point.KIND == "point" and point.KIND == "point"
    assert "KIND" not in vars(point)


@pytest.mark.parametrize("field", [*FIELDS, "other"])
def test_a_record_is_frozen(field):
    point = Point(1, 2)
    with pytest.raises(AttributeError, match="frozen"):
        setattr(point, field, 9)
    with pytest.raises(AttributeError, match="frozen"):
        delattr(point, field)
    assert (point.x, point.y) == (1, 2)


def test_a_record_not_frozen_takes_assignments():
    counter = Counter()
    counter.count += 3
    assert counter.count == 3 and repr(counter) == "Counter(count=3)"


def test_replace_makes_a_new_record():
    point = Point(1, 2, tags=("a",))
    moved = point.replace(y=5)
    assert (moved.x, moved.y, moved.tags, point.y) == (1, 5, ("a",), 2)
    assert type(moved) is Point
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        point.replace(z=1)


def test_equality_is_identity_unless_asked_for():
    assert Point(1, 2) != Point(1, 2)
    point = Point(1, 2)
    assert point == point and {point: 1}[point] == 1  # hashable by identity
    assert Value(1, "a") == Value(1, "a") and Value(1, "a") != Value(1, "b")
    assert hash(Value(1, "a")) == hash(Value(1, "a"))
    assert Value(1) != LooseValue(1)  # type: ignore[comparison-overlap]  # other classes
    assert LooseValue(1) == LooseValue(1)
    with pytest.raises(TypeError):
        hash(LooseValue(1))  # mutable and compared by value: not hashable, as a dataclass


@given(x=st.integers(), y=st.integers(), label=st.text(max_size=8))
def test_repr_names_every_field(x, y, label):
    assert repr(Point(x, y, label)) == f"Point(x={x!r}, y={y!r}, label={label!r}, tags=())"


def test_a_field_without_default_cannot_follow_one_with_a_default():
    with pytest.raises(TypeError, match="'b' has no default but follows a field that has one"):

        class Wrong(Record):
            a: int = 0
            b: int  # type: ignore[misc]  # the type checker refuses it too


def test_a_subclass_adds_fields_after_its_base():
    class Labelled(Value):
        colour: str = "red"

    made = Labelled(1, "t", "blue")
    assert (made.number, made.text, made.colour) == (1, "t", "blue")
    assert Labelled._record_fields == ("number", "text", "colour")
    with pytest.raises(TypeError, match="cannot extend each other"):

        class Loose(Value, frozen=False):  # type: ignore[misc]  # the type checker refuses it too
            extra: int = 0

    with pytest.raises(TypeError, match="cannot extend each other"):

        class Fixed(Counter):  # type: ignore[misc]  # the type checker refuses it too
            extra: int = 0


def test_a_record_survives_pickling_whole():
    copy = pickle.loads(pickle.dumps(Point(1, 2, "q", ("t",))))
    assert (copy.x, copy.y, copy.label, copy.tags) == (1, 2, "q", ("t",))
    with pytest.raises(AttributeError, match="frozen"):
        copy.x = 5


ORG = "org-abcdefghijklmnopqrstuvwx"


@pytest.mark.parametrize(
    "record",
    [
        OpenAIContext(ApiKey=Secret("sk-proj-recordsecret0000000000000000"), Organization=ORG),
        SettingsRequest(api_key=Secret("sk-proj-recordsecret0000000000000000"), organization=ORG),
    ],
    ids=["OpenAIContext", "SettingsRequest"],
)
def test_records_holding_a_key_or_an_organization_mask_them(record):
    shown = repr(record)
    assert "recordsecret" not in shown
    assert ORG not in shown and repr(mask_organization(ORG)) in shown


def test_records_load_without_the_dataclasses_machinery():
    code = (
        "import sys; import psopenai_py.records, psopenai_py.settings, psopenai_py.parameters; "
        "print(sorted(m for m in ('dataclasses', 'inspect', 'ast', 'dis') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_annotations_as_objects_are_read_too():
    # A module that does not postpone its annotations gives objects, not strings.
    namespace: dict[str, Any] = {"Record": Record, "ClassVar": ClassVar}
    exec("class Late(Record):\n    size: int = 1\n    LIMIT: ClassVar[int] = 9\n", namespace)
    late = namespace["Late"]
    assert late._record_fields == ("size",) and late().size == 1 and late.LIMIT == 9
