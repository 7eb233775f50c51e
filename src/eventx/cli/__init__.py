"""The ``eventx`` command line: one module per command group, over the public API only.

Exit codes: 0 success; 1 some articles failed (their error records are in the output);
2 bad usage or configuration (nothing was extracted); 130 interrupted (run the same
command again to resume).
"""

from __future__ import annotations

import atexit
import gc
import logging
import signal
from types import FrameType

import click

from eventx import __version__
from eventx.cli.analysis import convert, eval_command, fuse, report, schema
from eventx.cli.batch import batch
from eventx.cli.extract import extract

__all__ = ["main"]


@click.group()
@click.version_option(__version__, prog_name="eventx")
@click.option("-v", "--verbose", is_flag=True, help="Log every request, retry and re-ask.")
def main(verbose: bool) -> None:
    """Turn news articles into typed, grounded records of political events and claims."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    else:  # per-article outcomes are reported by eventx itself; keep library chatter out
        logging.getLogger("instructor").addHandler(logging.NullHandler())
    signal.signal(signal.SIGTERM, _interrupt)
    # At exit, outputs and the run store are closed; collecting the garbage of the
    # thousands of classes openai and pydantic defined would add 0.3-0.7 s to every
    # command, so what is left goes to the operating system with the process.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops a run like Ctrl-C: what is finished is kept, and local servers stop."""
    raise KeyboardInterrupt


for command in (extract, eval_command, report, fuse, convert, schema, batch):
    main.add_command(command)
