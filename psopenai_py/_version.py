"""The package's version, in a module of its own: the core and the front-ends read it from here,
so that none of them imports the package root."""

__version__ = "0.1.0"
