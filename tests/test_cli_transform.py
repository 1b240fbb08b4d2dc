"""--transform's GJSON paths: the path syntax's own examples, the paths used with stored
completions, the paths refused before anything is sent, and properties over generated
documents (dotted paths, escaped dots, counts, projections)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psopenai_py.openai_cli.jsontext import parse
from psopenai_py.openai_cli.transform import PathError, check, get

PEOPLE = parse(
    """{
  "name": {"first": "Tom", "last": "Anderson"},
  "age":37,
  "children": ["Sara","Alex","Jack"],
  "fav.movie": "Deer Hunter",
  "friends": [
    {"first": "Dale", "last": "Murphy", "age": 44, "nets": ["ig", "fb", "tw"]},
    {"first": "Roger", "last": "Craig", "age": 68, "nets": ["fb", "tw"]},
    {"first": "Jane", "last": "Murphy", "age": 47, "nets": ["ig", "tw"]}
  ],
  "vals": [
    {"a": 1, "b": "data"}, {"a": 2, "b": true}, {"a": 3, "b": false}, {"a": 4, "b": "0"},
    {"a": 5, "b": 0}, {"a": 6, "b": "1"}, {"a": 7, "b": 1}, {"a": 8, "b": "true"},
    {"a": 9, "b": false}, {"a": 10, "b": null}, {"a": 11}
  ]
}"""
)


def shown(node, path):
    found = get(node, path)
    return None if found is None else found.text


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("name.last", '"Anderson"'),
        ("age", "37"),
        ("children", '["Sara","Alex","Jack"]'),
        ("children.1", '"Alex"'),
        ("friends.1.first", '"Roger"'),
        ("child*.2", '"Jack"'),
        ("c?ildren.0", '"Sara"'),
        ("fav\\.movie", '"Deer Hunter"'),
        ("friends.#", "3"),
        ("friends.#.age", "[44,68,47]"),
        ('friends.#(last=="Murphy").first', '"Dale"'),
        ('friends.#(last=="Murphy")#.first', '["Dale","Jane"]'),
        ("friends.#(age>45)#.last", '["Craig","Murphy"]'),
        ('friends.#(first%"D*").last', '"Murphy"'),
        ('friends.#(first!%"D*").last', '"Craig"'),
        ('children.#(!%"*a*")', '"Alex"'),
        ('children.#(%"*a*")#', '["Sara","Jack"]'),
        ('friends.#(nets.#(=="fb"))#.first', '["Dale","Roger"]'),
        ("vals.#(b==~true)#.a", "[2,6,7,8]"),
        ("vals.#(b==~false)#.a", "[3,4,5,9,10,11]"),
        ("vals.#(b==~null)#.a", "[10,11]"),
        ("vals.#(b==~*)#.a", "[1,2,3,4,5,6,7,8,9,10]"),
        ("vals.#(b!=~*)#.a", "[11]"),
        ("friends|#", "3"),
        ('friends.#(last="Murphy")#|first', None),
        ('friends.#(last="Murphy")#.0', "[]"),
        ('friends.#(last="Murphy")#.#', "[]"),
        ('friends.#(last="Murphy")#|#', "2"),
        ("children.@reverse", '["Jack","Alex","Sara"]'),
        ("children.@reverse.0", '"Jack"'),
        ("name.@keys", '["first","last"]'),
        ("name.@values", '["Tom","Anderson"]'),
        ("name|@ugly", '{"first":"Tom","last":"Anderson"}'),
        ("friends.#.nets|@flatten", '["ig", "fb", "tw","fb", "tw","ig", "tw"]'),
        ("age|@tostr", '"37"'),
        ("name|@this", '{"first": "Tom", "last": "Anderson"}'),
        (
            '{name.first,age,"the_murphys":friends.#(last="Murphy")#.first}',
            '{"first":"Tom","age":37,"the_murphys":["Dale","Jane"]}',
        ),
        (
            '{name.first,age,"company":!"Happysoft","employed":!true}',
            '{"first":"Tom","age":37,"company":"Happysoft","employed":true}',
        ),
        ("[age,name.last]", '[37,"Anderson"]'),
        ("@dig:first", '["Tom","Dale","Roger","Jane"]'),
        ("..0.age", "37"),
        ("no.such.path", None),
        ("children.9", None),
        ("name.#", None),
        ("@unknown", None),
    ],
)
def test_the_syntax_pages_examples(path, text):
    assert shown(PEOPLE, path) == text


COMPLETION = parse(
    json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "one"}},
                {"index": 1, "message": {"role": "assistant", "content": "two"}},
            ],
            "usage": {"total_tokens": 18},
            "metadata": {"team": "ops", "team.lead": "ana"},
        }
    )
)
PAGE = parse('{"object": "list", "data": [{"id": "a"}, {"id": "b"}], "has_more": false}')
ERROR = parse('{"message": "No chat completion found", "type": "invalid_request_error", "code": "not_found"}')


@pytest.mark.parametrize(
    ("node", "path", "text"),
    [
        (COMPLETION, "id", '"chatcmpl-1"'),
        (COMPLETION, "metadata", '{"team": "ops", "team.lead": "ana"}'),
        (COMPLETION, "metadata.team", '"ops"'),
        (COMPLETION, "metadata.team\\.lead", '"ana"'),
        (COMPLETION, "choices.0.message.content", '"one"'),
        (COMPLETION, "choices.#.message.content", '["one","two"]'),
        (COMPLETION, "choices.#(index==1).message.content", '"two"'),
        (COMPLETION, "usage.total_tokens", "18"),
        (COMPLETION, "metadata|@keys", '["team","team.lead"]'),
        (COMPLETION, "@this", COMPLETION.text),
        (PAGE, "data.#", "2"),
        (PAGE, "data.#.id", '["a","b"]'),
        (ERROR, "message", '"No chat completion found"'),
    ],
)
def test_the_paths_used_with_stored_completions(node, path, text):
    assert shown(node, path) == text


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("choices.#(index==1", "unclosed '('"),
        ("{id,usage", "unclosed '{'"),
        ("[id", "unclosed '['"),
        ("x|!{", "unclosed '{'"),
        ('@pretty:{"width": 40}', "@pretty takes no options"),
        ("a.#(b.#(c==1)", "unclosed '('"),
    ],
)
def test_paths_that_cannot_mean_anything_are_refused(path, problem):
    with pytest.raises(PathError, match=problem.replace("(", r"\(").replace("[", r"\[").replace("{", r"\{")):
        check(path)


@pytest.mark.parametrize(
    "path",
    [
        "id",
        "a.b",
        "a\\.b",
        "choices.#.message.content",
        "#(a==1)#|#",
        "@pretty",
        "a(b",
        "x]",
        "{a,b}.0",
        "!true",
    ],
)
def test_valid_paths_pass_the_check(path):
    check(path)


# -- properties ------------------------------------------------------------------------------------

_keys = st.text("abcxyz._", min_size=1, max_size=6)
_leaves = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text("pqr ", max_size=5))


def _escaped(key: str) -> str:
    return "".join("\\" + c if c in ".*?|#@" else c for c in key)


@settings(max_examples=300, deadline=None)
@given(st.lists(_keys, min_size=1, max_size=5), _leaves)
def test_a_dotted_path_finds_what_it_names(keys, leaf):
    value: object = leaf
    for key in reversed(keys):
        value = {key: value}
    found = get(parse(json.dumps(value)), ".".join(_escaped(k) for k in keys))
    assert found is not None and json.loads(found.text) == leaf


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["id", "n", "x"]), _leaves, max_size=3), max_size=8))
def test_count_index_and_projection(items):
    document = parse(json.dumps({"data": items}))
    count = get(document, "data.#")
    assert count is not None and count.text == str(len(items))
    projected = get(document, "data.#.id")
    assert projected is not None and json.loads(projected.text) == [i["id"] for i in items if "id" in i]
    for position, item in enumerate(items):
        found = get(document, f"data.{position}")
        assert found is not None and json.loads(found.text) == item
    assert get(document, f"data.{len(items)}") is None
