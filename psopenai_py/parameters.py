"""Parameter tables: how a command describes its parameters, and the parameters commands share.

Each command declares its table once, beside its code in ``commands/``.  The table drives the
validation of the library functions, the PowerShell-style binder of the shim and the CLI, and the
check that keeps the ``Docs/`` pages equal to the code.
"""

from __future__ import annotations

from typing import Any

from . import checks
from .records import Record

__all__ = [
    "Parameter",
    "Command",
    "THROTTLE_LIMIT",
    "SHOULD_PROCESS_PARAMETERS",
    "settings_parameters",
    "completion_id_parameter",
    "paging_parameters",
    "after_parameter",
    "ORDER",
    "change_parameters",
    "ID_TEXT",
]


class Parameter(Record):
    """One parameter of a command, with PowerShell's binding facts and the docs' facts."""

    name: str
    """PowerShell name (``MaxRetryCount``)."""
    python_name: str
    """Keyword of the library function (``max_retry_count``)."""
    type_name: str
    """Type as the help page shows it (``String``, ``Int32``, ``IDictionary``, ``SwitchParameter``)."""
    description: str
    aliases: tuple[str, ...] = ()
    position: int | None = None
    mandatory: bool = False
    pipeline_by_value: bool = False
    pipeline_by_property: bool = False
    default: Any = None
    """Default used when nothing is given and nothing resolves (None: no default)."""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    hidden: bool = False
    """Hidden from SYNTAX, as PowerShell's DontShow (still documented under PARAMETERS)."""

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, {self.python_name!r}, {self.type_name!r}, ...)"

    @property
    def names(self) -> tuple[str, ...]:
        """The name followed by its aliases."""
        return (self.name, *self.aliases)

    @property
    def doc_position(self) -> str:
        return "Named" if self.position is None else str(self.position)

    @property
    def doc_default(self) -> str:
        return "None" if self.default is None else str(self.default)

    @property
    def doc_pipeline(self) -> str:
        kinds = [
            k
            for k, on in (("ByPropertyName", self.pipeline_by_property), ("ByValue", self.pipeline_by_value))
            if on
        ]
        return f"True ({', '.join(kinds)})" if kinds else "False"


class Command(Record):
    """A public command: its PowerShell name, its library function and its parameters.

    ``bulk`` commands take pipeline input and the ThrottleLimit execution parameter;
    ``should_process`` ones take WhatIf and Confirm.  Execution parameters are bound by the shim
    and the CLI and shown on the help page, but are not keywords of the library function.
    """

    name: str
    python_name: str
    synopsis: str
    parameters: tuple[Parameter, ...] = ()
    bulk: bool = False
    should_process: bool = False
    list_parameters: tuple[str, ...] = ()
    """Parameters that select the list form (no pipeline input is read when one is given)."""
    additions: tuple[str, ...] = ()
    """Table parameters the original command does not declare; a name prefix that matches
    several parameters prefers the original's (so a migrated ``-M`` keeps its meaning)."""

    def __repr__(self) -> str:
        return f"Command({self.name!r}, ...)"

    @property
    def execution_parameters(self) -> tuple[Parameter, ...]:
        """ThrottleLimit, WhatIf and Confirm as they apply."""
        return ((THROTTLE_LIMIT,) if self.bulk else ()) + (
            SHOULD_PROCESS_PARAMETERS if self.should_process else ()
        )

    @property
    def documented_parameters(self) -> tuple[Parameter, ...]:
        """Every parameter a help page lists: the table's, then the execution parameters."""
        return self.parameters + self.execution_parameters

    def parameter(self, name: str) -> Parameter:
        """Look a parameter up by its PowerShell name (exact)."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)


THROTTLE_LIMIT = Parameter(
    "ThrottleLimit",
    "throttle_limit",
    "Int32",
    "How many pipeline items are sent at once over the shared connection pool (1 to 64). Outputs "
    "keep the input order; requests to one server with one key start at the pace of its rate limit, "
    "as its x-ratelimit-* headers announce it or as its 429s teach it.",
    default=1,
    minimum=1,
    maximum=64,
)

SHOULD_PROCESS_PARAMETERS = (
    Parameter(
        "WhatIf",
        "what_if",
        "SwitchParameter",
        "Shows what would happen, for each item, and sends nothing.",
        aliases=("wi",),
        default=False,
    ),
    Parameter(
        "Confirm",
        "confirm",
        "SwitchParameter",
        "Asks on the terminal before each item.",
        aliases=("cf",),
        default=False,
    ),
)


def settings_parameters(*, with_key: bool = True) -> tuple[Parameter, ...]:
    """The parameters every API command shares (PSOpenAI's common request options)."""
    params = [
        Parameter(
            "TimeoutSec",
            "timeout_sec",
            "Int32",
            "Seconds each attempt may take in all (connect, send, wait for and read the whole "
            "response), as Invoke-WebRequest's TimeoutSec; 0 (the default) waits forever. 0 to "
            f"{checks.MAX_TIMEOUT_SECONDS}; each retry gets the time again.",
            default=0,
            minimum=0,
            maximum=checks.MAX_TIMEOUT_SECONDS,
        ),
        Parameter(
            "MaxRetryCount",
            "max_retry_count",
            "Int32",
            "How many times a request is retried after HTTP 429 (not a quota error) or 5xx, "
            f"or when the server says x-should-retry: true. 0 to {checks.MAX_RETRIES}; the default 0 "
            "never retries.",
            default=0,
            minimum=0,
            maximum=checks.MAX_RETRIES,
        ),
        Parameter(
            "ApiType",
            "api_type",
            "OpenAIApiType",
            "OpenAI or Azure (case-insensitive).",
            default="OpenAI",
            choices=("OpenAI", "Azure"),
        ),
        Parameter(
            "ApiBase",
            "api_base",
            "Uri",
            "The API's base URL, for example http://127.0.0.1:8080/v1. When not given: the "
            "context, then OPENAI_API_BASE (module global, then environment), then "
            "https://api.openai.com/v1.",
        ),
        Parameter(
            "ApiVersion",
            "api_version",
            "String",
            "Azure only: an api-version query value to send. Not sent when empty.",
            hidden=True,
        ),
        Parameter(
            "AuthType",
            "auth_type",
            "String",
            "openai, azure or azure_ad (case-insensitive). Azure ApiType forces azure unless "
            "it is already azure or azure_ad.",
            default="openai",
            choices=("openai", "azure", "azure_ad"),
        ),
    ]
    if with_key:
        params.append(
            Parameter(
                "ApiKey",
                "api_key",
                "Object",
                "The API key, as a string or a psopenai_py.Secret. When not given: the context, "
                "then OPENAI_API_KEY (module global, then environment), then the OS keyring. "
                f"{checks.KEY_RULE} This holds wherever the key comes from, and nothing is sent.",
            )
        )
    params += [
        Parameter(
            "Organization",
            "organization",
            "String",
            "The organization id sent as OpenAI-Organization. When not given: the context, "
            "then OPENAI_ORGANIZATION (module global, then environment), then the OS keyring. "
            f"{checks.HEADER_VALUE_RULE}",
            aliases=("OrgId",),
        ),
        Parameter(
            "AdditionalQuery",
            "additional_query",
            "IDictionary",
            "Extra query parameters, appended after any existing ones, URL-encoded.",
        ),
        Parameter(
            "AdditionalHeaders",
            "additional_headers",
            "IDictionary",
            "Extra HTTP headers; they win over the defaults except OpenAI-Organization. "
            + checks.HEADER_RULE,
        ),
        Parameter(
            "AdditionalBody",
            "additional_body",
            "Object",
            "Extra body properties, as a dictionary or a JSON object string; its keys win.",
        ),
    ]
    return tuple(params)


def completion_id_parameter(
    description: str,
    *,
    mandatory: bool = True,
    aliases: tuple[str, ...] = ("Completion", "completion_id", "InputObject", "Id"),
) -> Parameter:
    return Parameter(
        "CompletionId",
        "completion_id",
        "String",
        description,
        aliases=aliases,
        position=0,
        mandatory=mandatory,
        pipeline_by_value=True,
        pipeline_by_property=True,
    )


ID_TEXT = (
    "The id of the stored chat completion (chatcmpl-...). A completion object, or any "
    "object with an id property, binds by property name."
)


ORDER = Parameter(
    "Order",
    "order",
    "String",
    "asc (oldest first, the default) or desc.",
    default="asc",
    choices=("asc", "desc"),
)
"""-Order of every command that reads a list."""


def after_parameter(noun: str) -> Parameter:
    """-After of a command that reads a list of ``noun`` (plural)."""
    return Parameter("After", "after", "String", f"Start after the {noun[:-1]} with this id.")


def paging_parameters(noun: str) -> tuple[Parameter, ...]:
    """-Limit, -All, -After and -Order of a command that pages a list of ``noun`` (plural), and
    PSOpenAI's hidden -Before, accepted and not used."""
    return (
        Parameter(
            "Limit",
            "limit",
            "Int32",
            f"How many {noun} to get (1 to 100).",
            default=20,
            minimum=1,
            maximum=100,
        ),
        Parameter(
            "All",
            "all_pages",
            "SwitchParameter",
            f"Get every {noun[:-1]}, following the pages.",
            default=False,
        ),
        after_parameter(noun),
        ORDER,
        Parameter(
            "Before",
            "before",
            "String",
            "Accepted for compatibility and not used (the API pages with After only).",
            hidden=True,
        ),
    )


def change_parameters(*, merge: bool = False) -> tuple[Parameter, ...]:
    """-Merge (Set-ChatCompletion), -Journal and -Resume: the safe bulk change parameters."""
    merged = (
        Parameter(
            "Merge",
            "merge",
            "SwitchParameter",
            "Read the stored metadata and apply MetaData's keys over it instead of replacing it: "
            "a $null value removes its key. The limits apply to the merged result. With -WhatIf, "
            "shows each item's resulting metadata (reads, writes nothing).",
            default=False,
        ),
    )
    return (merged if merge else ()) + (
        Parameter(
            "Journal",
            "journal",
            "String",
            "A JSON-lines file that records every change before it is sent (pending, with what "
            "is needed to undo it) and after the answer (done or failed). A journal that already "
            "records a run needs -Resume. It never holds a key, a header or a setting.",
        ),
        Parameter(
            "Resume",
            "resume",
            "SwitchParameter",
            "Continue the run recorded in -Journal (a journal that does not exist yet is "
            "started): items recorded done are skipped (a verbose line, no output); pending ones "
            "are checked against the API and sent again only when not applied.",
            default=False,
        ),
    )
