"""The PowerShell front-end: binder, literal parser, the run (pipeline) with its host, streams and
progress line, help and the CLI.  It speaks PowerShell to the core in ``psopenai_py.commands``;
nothing in the core imports it."""
