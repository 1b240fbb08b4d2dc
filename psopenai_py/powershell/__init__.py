"""The PowerShell front-end: binder, literal parser, pipeline and its host, help, CLI and the
command registry.  It speaks PowerShell to the core in ``psopenai_py.commands``; nothing in the core
imports it."""
