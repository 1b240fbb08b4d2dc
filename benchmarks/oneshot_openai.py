"""A one-shot metadata update with the official openai SDK (the CLI's comparison)."""

from __future__ import annotations

import os
import sys

import openai

client = openai.OpenAI(
    api_key=os.environ["OPENAI_API_KEY"], base_url=os.environ["OPENAI_BASE_URL"], max_retries=0
)
client.chat.completions.update(sys.argv[1], metadata={"k": "v"})
