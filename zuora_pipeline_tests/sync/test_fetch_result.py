from zuora_pipeline.sync.fetch import FetchResult


def test_pagination_complete_needs_pages_one_to_n_and_distinct_ids():
    assert FetchResult(listed=120, distinct_ids=120, page_numbers=[1, 2, 3]).pagination_complete
    assert not FetchResult(listed=120, distinct_ids=120, page_numbers=[1, 3]).pagination_complete
    assert not FetchResult(listed=120, distinct_ids=119, page_numbers=[1, 2, 3]).pagination_complete
    assert FetchResult().pagination_complete  # an empty tenant: one walk, no pages stored


def test_coverage_counts_failed_exports_against_exportable_workflows():
    result = FetchResult(listed=1000, without_active_version=50, errors=5)
    assert result.exportable == 950
    assert result.coverage == 945 / 950
