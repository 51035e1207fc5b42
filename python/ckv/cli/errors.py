"""The command line's one error policy, for every command.

- An expected failure (``CkvError``, ``ValueError``, ``OSError``) prints one line,
  ``ckv: error: …``, on stderr and exits with status 1; ``--debug`` raises it instead, so the
  traceback shows.
- Ctrl-C prints ``ckv: interrupted`` and exits 130; a closed stdout (``ckv … | head``) ends
  quietly with status 0.
- Warnings print as ``ckv: warning: …`` (each once per place), or Python's way with ``--debug``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable

from ..exceptions import CkvError

__all__ = ["EXPECTED", "run_command"]

EXPECTED = (CkvError, ValueError, OSError)


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    return f"ckv: warning: {message}\n"


def run_command(
    func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace, *, debug: bool
) -> int:
    """``func(args)`` under the policy above; returns the exit status. The warning settings
    are restored afterwards, so a command run inside a process leaves it as it was."""
    with warnings.catch_warnings():
        saved = warnings.formatwarning
        if not debug:
            warnings.simplefilter("default")
            warnings.formatwarning = _one_line_warning
        try:
            return _run(func, args, debug)
        finally:
            warnings.formatwarning = saved


def _run(
    func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace, debug: bool
) -> int:
    try:
        return int(func(args) or 0)
    except BrokenPipeError:  # e.g. `ckv demo | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("ckv: interrupted", file=sys.stderr)
        return 130
    except EXPECTED as e:
        if debug:
            raise
        print(f"ckv: error: {e}", file=sys.stderr)
        return 1
