"""The public commands, one module per family, each a thin layer over the shared transport."""
