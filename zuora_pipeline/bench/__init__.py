"""``zuora-pipeline bench``: the performance scenarios of issue 4, measured on the real code path."""
