"""A server that answers every request with one canned chat completion, as fast as it can.

The client-cost benchmarks run against it (in its own process) so that the server's own work
does not hide the difference between two clients: it parses just enough HTTP/1.1 to find the end
of each request (headers, then Content-Length bytes) and writes back the same prepared bytes over
keep-alive.  Run ``python benchmarks/canned_server.py``: it prints ``port N`` and serves until
killed.  Only 127.0.0.1 is bound.
"""

from __future__ import annotations

import asyncio
import json
import sys

COMPLETION = {
    "id": "chatcmpl-canned",
    "object": "chat.completion",
    "created": 1_800_000_000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello.", "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10},
    "metadata": {"k": "v"},
    "request_id": "req_canned",
    "tool_choice": None,
    "seed": 1,
    "top_p": 1.0,
    "temperature": 1.0,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "system_fingerprint": None,
    "input_user": None,
    "service_tier": "default",
    "tools": None,
}
BODY = json.dumps(COMPLETION).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\nConnection: keep-alive\r\n\r\n"
    + BODY
)


async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            writer.write(RESPONSE)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(serve_one, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
