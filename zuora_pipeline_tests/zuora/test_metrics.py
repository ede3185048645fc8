import httpx

from zuora_pipeline.zuora import ClientMetrics, ClientSettings

from .fakes import FakeZuora, SleepRecorder, make_client, once


def test_as_dict_is_flat_numeric() -> None:
    fake = FakeZuora(workflows=3)
    fake.add_fault(once(lambda r: r.url.path.endswith("/export"), lambda: httpx.Response(503)))
    fake.add_fault(once(lambda r: r.url.path == "/workflows/2", httpx.ReadTimeout("slow")))
    with make_client(fake, sleep=SleepRecorder(), settings=ClientSettings(page_length=2)) as client:
        list(client.iter_workflow_pages())
        client.export_workflow(1)
        client.get_workflow(2)
    m = client.metrics.as_dict()
    assert all(isinstance(v, (int, float)) for v in m.values())
    assert m["requests_token"] == 1 and m["tokens_fetched"] == 1
    assert m["requests_list"] == 2 and m["requests_list_200"] == 2
    assert m["requests_export_503"] == 1 and m["requests_export_200"] == 1
    assert m["requests_get_error"] == 1 and m["requests_get_200"] == 1
    assert m["retries_503"] == 1 and m["retries_timeout"] == 1 and m["retries_total"] == 2
    assert m["requests_total"] == 1 + 2 + 2 + 2
    assert m["bytes_received"] > 0 and m["request_seconds"] > 0 and m["max_in_flight"] == 1


def test_metrics_thread_safe_counts() -> None:
    import threading

    m = ClientMetrics()

    def record() -> None:
        for _ in range(1000):
            m.record_request("export", 200, 0.001, 10)

    threads = [threading.Thread(target=record) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.as_dict()["requests_export_200"] == 8000 and m.bytes_received == 80000
