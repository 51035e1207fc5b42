"""The ``ckv`` command line (the ``ckv`` entry point is ``ckv.cli:main``).

One module per command (``get``, ``cache``, ``sim``, ``demo``, ``bench``, ``symbols``), each
with ``add_parser(subparsers)`` and its handler; ``options`` declares the options several
commands share; ``errors`` is the one error policy (a one-line ``ckv: error: …``, exit status
1, ``--debug`` for the traceback); ``app`` builds the parser and runs a command. Building the
parser imports nothing heavy: each handler imports what it needs when it runs.
"""

from __future__ import annotations

from .app import build_parser, main

__all__ = ["build_parser", "main"]
