"""NaN and Infinity are not JSON: an answer holding one is refused as not JSON (the item fails,
named), so the JSON lines of the output, an export and the dialect's output stay JSON."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import psopenai_py
from psopenai_py.errors import InvalidResponseException
from psopenai_py.openai_cli import main as dialect_main
from psopenai_py.powershell import cli

from .hostile_server import HostileServer, Reply, Seen

KEY = "sk-nan-000000000000000000000000000000"
WORDS = ["NaN", "Infinity", "-Infinity"]


def _strict(text: str) -> list[object]:
    """Every line parsed as JSON that a strict reader (any other language's) accepts."""

    def refuse(word: str) -> object:
        raise ValueError(word)

    return [json.loads(line, parse_constant=refuse) for line in text.splitlines() if line.strip()]


@pytest.fixture
def server(transport: object) -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


def _answers(word: str, bad: str) -> Callable[[Seen], Reply]:
    def script(seen: Seen) -> Reply:
        ident = seen.path.rsplit("/", 1)[-1]
        if seen.path.endswith("/chat/completions"):
            items = ",".join(
                f'{{"id":"chatcmpl-{i}","object":"chat.completion","created":1,"model":"m","metadata":{{}},'
                f'"usage":{{"total_tokens":{word if i == 1 else 1}}}}}'
                for i in range(3)
            )
            return Reply(200, f'{{"object":"list","data":[{items}],"has_more":false}}'.encode())
        number = word if ident == bad else "1"
        body = (
            f'{{"id":"{ident}","object":"chat.completion","created":1,"model":"m","metadata":{{}},'
            f'"usage":{{"total_tokens":{number}}}}}'
        )
        return Reply(200, body.encode())

    return script


@pytest.mark.parametrize("word", WORDS)
def test_a_bulk_run_fails_that_item_and_its_output_stays_json(server: HostileServer, word: str) -> None:
    server.script = _answers(word, "chatcmpl-b")
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(
        ["Set-ChatCompletion", "-MetaData", "@{k='v'}", "-ApiKey", KEY, "-ApiBase", server.base_url],
        stdin=io.StringIO("chatcmpl-a\nchatcmpl-b\nchatcmpl-c\n"),
        stdout=out,
        stderr=err,
    )
    assert status == 1
    assert [item["id"] for item in _strict(out.getvalue())] == ["chatcmpl-a", "chatcmpl-c"]  # type: ignore[index]
    lines = err.getvalue().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("Set-ChatCompletion: [chatcmpl-b] ")
        and "not JSON" in lines[0]
    )


@pytest.mark.parametrize("word", WORDS)
def test_the_library_raises_invalid_response(server: HostileServer, word: str) -> None:
    server.script = _answers(word, "chatcmpl-a")
    with pytest.raises(InvalidResponseException, match="not JSON"):
        psopenai_py.get_chat_completion("chatcmpl-a", api_key=KEY, api_base=server.base_url)


def test_an_export_of_a_page_with_nan_writes_no_file(server: HostileServer, tmp_path: Path) -> None:
    server.script = _answers("NaN", "")
    target = tmp_path / "x.jsonl"
    with pytest.raises(InvalidResponseException):
        psopenai_py.export_chat_completion(str(target), api_key=KEY, api_base=server.base_url)
    assert list(tmp_path.iterdir()) == []


def test_the_dialects_output_stays_json(server: HostileServer) -> None:
    server.script = _answers("Infinity", "")
    out, err = io.StringIO(), io.StringIO()
    status = dialect_main(
        ["chat:completions", "list", "--format", "jsonl", "--api-key", KEY, "--base-url", server.base_url],
        stdout=out,
        stderr=err,
    )
    assert status == 1 and "not JSON" in err.getvalue()
    assert _strict(out.getvalue()) == []
