"""The openai CLI dialect's output formats over JSON as received: the indenter's layout rules,
one-line JSON, YAML, the boxed view and terminal colours (tables and properties), and the
printer's choices (transform, -r, explore, colour) on pipes and in a real pseudo-terminal."""

from __future__ import annotations

import io
import json
import os
import select
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from psopenai_py.openai_cli import formats
from psopenai_py.openai_cli.jsontext import JSONTextError, compact, compact_node, parse
from psopenai_py.openai_cli.output import EXPLORE_WARNING, Printer

ROOT = Path(__file__).resolve().parents[1]


def indented(text: str) -> str:
    return formats.indented(parse(text))


# -- jsontext: a document's parts keep their text ------------------------------------------------


def test_scalars_keep_their_text():
    node = parse('{"n": 1e5, "m": 1.10, "s": "caf\\u00e9", "big": 12345678901234567890}')
    assert [value.text for _, value in node.members] == [
        "1e5",
        "1.10",
        '"caf\\u00e9"',
        "12345678901234567890",
    ]
    assert node.members[2][1].string() == "café"
    assert indented(node.text) == (
        '{\n  "n": 1e5,\n  "m": 1.10,\n  "s": "caf\\u00e9",\n  "big": 12345678901234567890\n}\n'
    )


@pytest.mark.parametrize(
    "text", ["", "{", '{"a" 1}', "[1,]", "{} {}", '"\\x"', "tru", "01", "[" * 401 + "]" * 401]
)
def test_what_is_not_one_document_is_refused(text):
    with pytest.raises(JSONTextError):
        parse(text)


def test_a_lone_surrogate_escape_reads_as_the_replacement_character():
    assert parse('"a\\ud800b"').string() == "a\ufffdb"


# -- json: the indenter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("{}", "{}\n"),
        ("[]", "[]\n"),
        ('{"a": {}}', '{\n  "a": {}\n}\n'),
        ('{"a": []}', '{\n  "a": []\n}\n'),
        ('{"a":["x","y"]}', '{\n  "a": ["x", "y"]\n}\n'),
        ("[[1,2],[3]]", "[[1, 2], [3]]\n"),
        ('[{"a":1}]', '[\n  {\n    "a": 1\n  }\n]\n'),
        ('[1,{"a":[]}]', '[\n  1,\n  {\n    "a": []\n  }\n]\n'),
        ('"x"', '"x"\n'),
        ("  7 ", "7\n"),
        ('{"a\\"b": null}', '{\n  "a\\"b": null\n}\n'),
    ],
)
def test_indented_layout(text, shown):
    assert indented(text) == shown


def _strings(length: int) -> str:
    """A one-element array whose one-line form is ``length`` characters."""
    return json.dumps(["x" * (length - 4)])


@pytest.mark.parametrize(
    ("length", "one_line"),
    [(72, True), (73, False)],
)
def test_an_array_member_may_end_at_column_79(length, one_line):
    shown = indented('{"k": ' + _strings(length) + "}")
    assert (f'  "k": {_strings(length)}\n' in shown) is one_line
    if one_line:
        assert max(len(line) for line in shown.splitlines()) == 79


def test_the_key_counts_for_the_room_left():
    # 70 characters on one line fit after a short key, not after a 28-column one.
    array = json.dumps(["a" * 31, "b" * 31])
    assert len(array) == 70
    assert array in indented('{"k": ' + array + "}")
    long_key = indented('{"a_fairly_long_key_name": ' + array + "}")
    assert array not in long_key and '    "' + "a" * 31 + '",\n' in long_key


@pytest.mark.parametrize(("length", "one_line"), [(78, True), (79, False)])
def test_a_later_array_element_may_end_at_column_80(length, one_line):
    shown = indented('[{"a": 1}, ' + _strings(length) + "]")
    assert ("  " + _strings(length) + "\n" in shown) is one_line


@pytest.mark.parametrize(("length", "one_line"), [(77, True), (78, False)])
def test_a_first_array_element_may_end_at_column_79(length, one_line):
    shown = indented("[" + _strings(length) + ', {"a": 1}]')
    assert ("  " + _strings(length) + ",\n" in shown) is one_line


@pytest.mark.parametrize(("length", "one_line"), [(80, True), (81, False)])
def test_a_document_that_is_an_array_may_take_80_columns(length, one_line):
    assert (indented(_strings(length)) == _strings(length) + "\n") is one_line


def test_bytes_are_counted_not_characters():
    # 35 two-byte characters: a one-line array of 39 characters but 74 bytes (72 fit).
    text = '{"k": ["' + "é" * 35 + '"]}'
    assert '"k": [\n' in indented(text)
    assert '"k": ["' + "e" * 35 + '"]' in indented(text.replace("é", "e"))


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=20), inner, max_size=6)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_values, st.sampled_from([None, 2, 4]), st.booleans())
def test_indented_and_compact_are_the_same_json(value, indent, ascii_only):
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    shown = indented(text)
    assert json.loads(shown) == json.loads(text)
    assert shown.endswith("\n") and not shown.endswith("\n\n")
    assert compact(text) == json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":"))
    assert compact_node(parse(text)) == compact(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.integers(0, 10**6), st.text("abc", max_size=12)), max_size=20),
    st.text("kx", min_size=1, max_size=40),
)
def test_a_one_line_array_fits_in_the_room_its_key_leaves(items, key):
    shown = indented(json.dumps({key: items}))
    for line in shown.splitlines():
        if line.startswith(f'  "{key}": [') and line.endswith("]"):
            assert len(line.encode()) <= 79


# -- yaml -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('{"a": 1, "b": [1, 2], "c": {"d": null}}', "a: 1\nb:\n  - 1\n  - 2\nc:\n  d: null\n"),
        ('{"e": {}, "f": []}', "e: {}\nf: []\n"),
        ('[{"a": 1, "b": 2}, [3, 4]]', "- a: 1\n  b: 2\n- - 3\n  - 4\n"),
        # "n" and "y" are booleans to a YAML 1.1 reader: quoted, keys too.
        ('{"n": 1e5, "t": true}', '"n": 1e5\nt: true\n'),
        (
            '{"s": "yes", "u": "", "v": "12:30", "w": "2024-01-02", "x": "- a", "y": "a: b", "z": "#c"}',
            's: "yes"\nu: ""\nv: "12:30"\nw: "2024-01-02"\nx: "- a"\n"y": "a: b"\nz: "#c"\n',
        ),
        (
            '{"plain": "hello world", "dash": "a-b", "colon": "a:b"}',
            "plain: hello world\ndash: a-b\ncolon: a:b\n",
        ),
        ('{"m": "line1\\nline2"}', "m: |-\n  line1\n  line2\n"),
        ('{"m": "line1\\n"}', "m: |\n  line1\n"),
        ('{"m": "a\\n\\n"}', "m: |+\n  a\n\n"),
        ('{"m": " lead\\nx"}', 'm: " lead\\nx"\n'),
        ('{"c": "bell\\u0007", "e": "caf\\u00e9"}', 'c: "bell\\x07"\ne: café\n'),
        ('{"a\\nb": 1}', "? |-\n  a\n  b\n: 1\n"),
        ('"top"', "top\n"),
        ("[]", "[]\n"),
    ],
)
def test_yaml_as_json2yaml_writes_it(text, shown):
    assert formats.to_yaml(parse(text)) == shown


_yaml_safe = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**9), 10**9),
        st.text(st.characters(codec="utf-8"), max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_yaml_safe)
def test_yaml_reads_back_as_the_same_value(value):
    # json2yaml quotes every string a YAML 1.1 reader would take for something else.
    text = formats.to_yaml(parse(json.dumps(value)))
    assert yaml.safe_load(text) == value


# -- pretty: the boxed view --------------------------------------------------------------------------


def test_the_boxed_view():
    text = json.dumps(
        {"id": "x", "ok": True, "no": False, "n": None, "e": "", "list": [1, {"a": "b"}], "m": {}, "z": []}
    )
    assert formats.human_view("chat:completions retrieve", parse(text)) == (
        "  chat:completions retrieve\n"
        "╭────────────╮\n"
        "│ id: x      │\n"
        "│ ok: yes    │\n"
        "│ no: no     │\n"
        "│ n: null    │\n"
        "│ e: (empty) │\n"
        "│ list:      │\n"
        "│   1. 1     │\n"
        "│   2.       │\n"
        "│     a: b   │\n"
        "│ m:(empty)  │\n"
        "│ z: (none)  │\n"
        "╰────────────╯\n"
    )


def test_the_boxed_view_cuts_long_strings_and_escapes_controls():
    text = json.dumps({"long": "w" * 100, "ctl": "a\nb\x1b"})
    lines = formats.human_view("t", parse(text), width=40).splitlines()
    assert "│ long: " + "w" * 29 + "… │" in lines
    assert "│ ctl: a\\nb\\u001b" in lines[3]
    assert len({formats.display_width(line) for line in lines[1:]}) == 1


def test_wide_characters_take_two_cells_in_the_box():
    lines = formats.human_view("t", parse('{"a": "日本", "b": "x"}')).splitlines()
    assert lines[2] == "│ a: 日本 │" and lines[3] == "│ b: x    │"


# -- colours ------------------------------------------------------------------------------------------


def test_colours_as_the_terminal_style():
    key, string, number, true, null, bold, escape, off = (
        "\x1b[1m\x1b[94m",
        "\x1b[32m",
        "\x1b[33m",
        "\x1b[36m",
        "\x1b[2m",
        "\x1b[1m",
        "\x1b[35m",
        "\x1b[0m",
    )
    shown = formats.coloured('{"a": "x\\ny", "n": [1, true, null]}')
    expected = [
        f'{bold}{{{off}{key}"a"{off}{bold}:{off} ',
        f'{string}"x{off}{escape}\\n{off}{string}y"{off}{bold},{off} ',
        f'{key}"n"{off}{bold}:{off} {bold}[{off}',
        f"{number}1{off}, {true}true{off}, {null}null{off}",
        f"{bold}]{off}{bold}}}{off}",
    ]
    assert shown == "".join(expected)


# -- the printer ---------------------------------------------------------------------------------------


DOC = '{"id": "c1", "choices": [{"message": {"content": "hi\\tthere"}}], "n": 1.50}'


@pytest.mark.parametrize(
    ("fmt", "transform", "raw_output", "shown"),
    [
        ("auto", "", False, indented(DOC)),
        ("JSON", "", False, indented(DOC)),
        ("jsonl", "", False, compact(DOC) + "\n"),
        ("raw", "", False, DOC + "\n"),
        ("raw", "n", False, "1.50\n"),
        ("json", "id", False, '"c1"\n'),
        ("json", "id", True, "c1\n"),
        ("yaml", "id", True, "c1\n"),
        ("json", "choices.0.message.content", True, "hi\tthere\n"),
        ("json", "n", True, "1.50\n"),
        ("json", "no.such.path", False, indented(DOC)),
        ("jsonl", "choices.#.message", False, '[{"content":"hi\\tthere"}]\n'),
    ],
)
def test_transform_then_raw_output_then_the_format(fmt, transform, raw_output, shown):
    out = io.StringIO()
    Printer(out, fmt, transform=transform, raw_output=raw_output).document(DOC)
    assert out.getvalue() == shown


def test_a_body_ending_in_a_newline_prints_an_empty_line_in_raw():
    out = io.StringIO()
    Printer(out, "raw").document('  {"a": 1}\n')
    assert out.getvalue() == '{"a": 1}\n\n'


@pytest.mark.parametrize(("explicit", "warning"), [(True, EXPLORE_WARNING), (False, "")])
def test_explore_falls_back_to_json_off_a_terminal(explicit, warning):
    out, err = io.StringIO(), io.StringIO()
    Printer(out, "explore", explicit=explicit, err=err).document(DOC)
    assert out.getvalue() == indented(DOC) and err.getvalue() == warning


@pytest.mark.parametrize(("force", "coloured"), [("1", True), ("0", False), (None, False)])
def test_force_color_in_a_pipe(monkeypatch, force, coloured):
    if force is None:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    else:
        monkeypatch.setenv("FORCE_COLOR", force)
    out = io.StringIO()
    Printer(out, "json").document(DOC)
    assert ("\x1b[" in out.getvalue()) is coloured


# -- in a real terminal -----------------------------------------------------------------------------


def in_terminal(argv: list[str], env: dict[str, str], columns: int = 100) -> str:
    """Run ``psopenai`` with a pseudo-terminal as its stdout (``columns`` wide); its output."""
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.environ.clear()
        os.environ.update(env)
        os.execvp(sys.executable, [sys.executable, "-m", "psopenai_py", *argv])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    output = b""
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], 20)
            chunk = os.read(fd, 65536) if ready else b""
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    return output.decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_colours_only_on_a_terminal_and_controls_escaped_there(emulator, stored):
    emulator.store.update_metadata(stored, {"note": "x\x1b[2Jy"})
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "OPENAI_BASE_URL": emulator.url,
        "OPENAI_API_KEY": "sk-terminal-0000000000000000000000",
    }
    shown = in_terminal(["chat:completions", "retrieve", stored], env)
    assert '\x1b[1m\x1b[94m"id"\x1b[0m' in shown and f'\x1b[32m"{stored}"\x1b[0m' in shown
    assert "x\x1b[2Jy" not in shown
    plain = in_terminal(["chat:completions", "retrieve", stored], {**env, "FORCE_COLOR": "0"})
    assert json.loads(plain)["id"] == stored
    raw = in_terminal(["chat:completions", "retrieve", stored, "--transform", "metadata.note", "-r"], env)
    assert raw == "x\\u001b[2Jy\n"
    boxed = in_terminal(["chat:completions", "retrieve", stored, "--format", "pretty"], env, columns=50)
    widths = {formats.display_width(line) for line in boxed.splitlines()[1:] if line}
    assert widths and max(widths) <= 50
