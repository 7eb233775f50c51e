"""Run the scripted server on its own: ``python -m tests.llm_server --latency 0.5 --rpm 1200``.

It answers every article with a grounded one-meeting extraction (see
:func:`~tests.llm_server.server.first_sentence_meeting`), enforces the given rate
limits per second with 429 and ``Retry-After``, prints its base URL on the first
line of stdout, and serves ``GET /v1/stats`` until it is stopped.
"""

from __future__ import annotations

import argparse
import threading

from tests.llm_server.server import RateWindow, ScriptedLLM, first_sentence_meeting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--rpm", type=int, default=None, help="requests per minute")
    parser.add_argument("--tpm", type=int, default=None, help="tokens per minute")
    args = parser.parse_args()
    limits = None
    if args.rpm or args.tpm:
        limits = RateWindow(args.rpm or 10**9, args.tpm or 10**12)
    server = ScriptedLLM(
        {},
        fallback=first_sentence_meeting,
        latency=args.latency,
        limits=limits,
        record_requests=False,
    )
    with server:
        print(server.base_url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
