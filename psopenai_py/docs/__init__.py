"""The help pages that ``psopenai help`` shows: a byte-equal copy of the project's ``Docs/*.md``.

``Docs/`` is where the pages are written; this copy is what installs. A copy checked equal to
``Docs/`` by the test suite (tests/test_packaging.py) was chosen over generating it in a build
hook: a hook runs only when a wheel is built, so a source checkout and an editable install
(whose package directory is the source tree) would have no pages and need a second lookup
path, while the copy reads the same through :mod:`importlib.resources` from a wheel, ``--user``,
``--target``, editable, a checkout or a zip on ``sys.path``. After editing a page in ``Docs/``,
copy it here: ``cp Docs/*.md psopenai_py/docs/``.
"""
