"""Several model servers: the least busy endpoint, a circuit breaker each, on real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import openai
import pytest

from eventx import Extractor, Settings
from eventx.extraction.endpoints import Circuit, EndpointPool, is_endpoint_fault
from eventx.runs.runner import Runner
from eventx.runs.store import RunStore
from tests.llm_server.server import ScriptedLLM, first_sentence_meeting, http_error
from tests.test_batch import synthetic


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fail(pool: EndpointPool, times: int) -> None:
    for _ in range(times):
        endpoint, probe = pool.acquire()
        pool.release(endpoint, failed=endpoint.url == "b", probe=probe)


def test_requests_go_to_the_endpoint_with_the_fewest_in_flight() -> None:
    pool = EndpointPool(["a", "b", "c"])
    first, _ = pool.acquire()
    second, _ = pool.acquire()
    third, _ = pool.acquire()
    assert {first.url, second.url, third.url} == {"a", "b", "c"}
    pool.release(second, failed=False)
    assert pool.acquire()[0] is second


def test_idle_endpoints_take_turns() -> None:
    pool = EndpointPool(["a", "b"])
    urls = []
    for _ in range(4):
        endpoint, _ = pool.acquire()
        urls.append(endpoint.url)
        pool.release(endpoint, failed=False)
    assert urls == ["a", "b", "a", "b"]


def test_failures_in_a_row_open_the_circuit_until_a_probe_answers() -> None:
    clock = Clock()
    pool = EndpointPool(["a", "b"], failures_to_open=3, cooldown=5.0, clock=clock)
    _fail(pool, 6)  # b fails three times in a row
    b = pool.endpoints[1]
    assert b.circuit is Circuit.OPEN
    assert {pool.acquire()[0].url for _ in range(5)} == {"a"}

    clock.now = 5.0
    probe, is_probe = pool.acquire()
    assert (probe.url, is_probe, probe.circuit) == ("b", True, Circuit.HALF_OPEN)
    assert pool.acquire()[0].url == "a"  # one probe at a time
    pool.release(probe, failed=False, probe=True)
    assert b.circuit is Circuit.CLOSED
    assert pool.stats()["b"].opened == 1


def test_a_failed_probe_opens_the_circuit_for_twice_as_long() -> None:
    clock = Clock()
    pool = EndpointPool(["a", "b"], failures_to_open=1, cooldown=5.0, clock=clock)
    _fail(pool, 2)
    clock.now = 5.0
    leases = [pool.acquire() for _ in range(2)]  # both endpoints: the idle a, and b's probe
    probe, is_probe = next(lease for lease in leases if lease[0].url == "b")
    assert is_probe
    pool.release(probe, failed=True, probe=is_probe)
    assert pool.endpoints[1].retry_at == 15.0
    assert pool.stats()["b"] == pool.stats()["b"].__class__(2, 2, 2, "open")


def test_with_every_circuit_open_the_first_to_reopen_takes_a_probe() -> None:
    clock = Clock()
    pool = EndpointPool(["a", "b"], failures_to_open=1, cooldown=5.0, clock=clock)
    for url in ("a", "b"):
        endpoint = next(e for e in pool.endpoints if e.url == url)
        endpoint.in_flight += 1
        pool.release(endpoint, failed=True)
        clock.now += 1
    endpoint, probe = pool.acquire()
    assert (endpoint.url, probe) == ("a", True)


def test_only_unreachable_endpoints_and_server_errors_count_against_a_circuit() -> None:
    request = httpx.Request("POST", "http://x/v1/chat/completions")

    def status(code: int) -> openai.APIStatusError:
        response = httpx.Response(code, request=request)
        return openai.APIStatusError("scripted", response=response, body=None)

    assert is_endpoint_fault(status(503))
    assert is_endpoint_fault(openai.APIConnectionError(request=request))
    assert is_endpoint_fault(openai.APITimeoutError(request=request))
    assert not is_endpoint_fault(status(429))
    assert not is_endpoint_fault(status(400))
    assert not is_endpoint_fault(ValueError("invalid answer"))


def test_base_urls_come_from_the_environment_comma_separated() -> None:
    env = {"EVENTX_BASE_URLS": "http://a:8000/v1, http://b:8000/v1,,http://a:8000/v1"}
    settings = Settings.resolve(env=env)
    assert settings.base_urls == ("http://a:8000/v1", "http://b:8000/v1")
    assert settings.base_url == "http://a:8000/v1"
    assert settings.rate_limits() == (None, None, False)  # not OpenAI: no default limits
    assert Settings.resolve(env=env, base_urls=()).base_urls is None


@pytest.fixture
def fleet() -> Iterator[list[ScriptedLLM]]:
    servers = [ScriptedLLM({}, fallback=first_sentence_meeting) for _ in range(2)]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


def test_an_extractor_spreads_requests_over_the_fleet(fleet: list[ScriptedLLM]) -> None:
    urls = [server.base_url for server in fleet]
    with Extractor(base_urls=urls, api_key="sk-test") as extractor:
        results = [extractor.extract(article) for article in synthetic(6)]
    assert all(result.ok for result in results)
    assert [len(server.requests) for server in fleet] == [3, 3]


def test_a_failing_endpoint_is_left_alone_and_its_articles_still_succeed(
    fleet: list[ScriptedLLM], sleeps: object
) -> None:
    broken, healthy = fleet
    broken.script(*[http_error(503)] * 3)
    urls = [broken.base_url, healthy.base_url]
    extractor = Extractor(base_urls=urls, api_key="sk-test", sleep=sleeps)  # type: ignore[arg-type]
    with extractor:
        results = [extractor.extract(article) for article in synthetic(8)]
    assert all(result.ok for result in results)
    assert len(broken.requests) == 3  # opened after 3 failures; no probe within the cooldown
    assert len(healthy.requests) == 8
    stats = extractor.endpoints.stats() if extractor.endpoints else {}
    assert (stats[broken.base_url].failures, stats[broken.base_url].opened) == (3, 1)


def test_the_run_summary_counts_requests_per_endpoint(
    fleet: list[ScriptedLLM], tmp_path: Path
) -> None:
    urls = [server.base_url for server in fleet]
    extractor = Extractor(base_urls=urls, api_key="sk-test")
    with RunStore(tmp_path / "run.db") as store:
        summary = Runner(extractor, store, concurrency=4).run(synthetic(10))
    counts = summary.endpoints
    assert set(counts) == set(urls)
    assert sum(count.requests for count in counts.values()) == 10
    assert all(count.requests >= 3 for count in counts.values())
