from zuora_pipeline.logic.listing_diff import StoredWorkflow, diff_workflows, mass_delete_refused


def test_diff_classifies_every_listed_and_stored_workflow():
    stored = [
        StoredWorkflow(1, "h1", deleted=False),  # unchanged
        StoredWorkflow(2, "old", deleted=False),  # updated
        StoredWorkflow(3, "h3", deleted=False),  # vanished -> deleted
        StoredWorkflow(4, "h4", deleted=True),  # reappears -> restored
        StoredWorkflow(5, "h5", deleted=True),  # still gone: not deleted again
    ]
    diff = diff_workflows({1: "h1", 2: "new", 4: "h4", 6: "h6"}, stored)

    assert diff.unchanged == [1]
    assert diff.updated == [2]
    assert diff.restored == [4]
    assert diff.created == [6]
    assert diff.deleted == [3]
    assert sorted(diff.to_write) == [2, 4, 6]
    assert diff.stats().row_counts() == {"created": 2, "updated": 1, "unchanged": 1, "deleted": 1, "total": 4}


def test_shrink_guard_refuses_more_than_the_share():
    assert mass_delete_refused(deleted=6, live_before=10, max_share=0.5)
    assert not mass_delete_refused(deleted=5, live_before=10, max_share=0.5)
    assert not mass_delete_refused(deleted=0, live_before=0, max_share=0.5)
    assert mass_delete_refused(deleted=10, live_before=10, max_share=0.5)
