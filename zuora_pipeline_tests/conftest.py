import os
import tempfile

# Step retries wait a fraction of a second in tests instead of minutes (read at import of the
# definitions, so it is set before any test module imports them).
os.environ.setdefault("ZUORA_PIPELINE_STEP_RETRY_DELAY_S", "0.2")
# Keep the suite off the developer's real data directory and warehouse.
os.environ.pop("ZUORA_PIPELINE_DATABASE_URL", None)
os.environ["ZUORA_PIPELINE_DATA_DIR"] = tempfile.mkdtemp(prefix="zuora_pipeline_tests_")

# Fixtures live in small plugin modules so each layer's helpers are found by name.
pytest_plugins = [
    "zuora_pipeline_tests.fixtures.simulator",
    "zuora_pipeline_tests.fixtures.warehouse",
    "zuora_pipeline_tests.fixtures.pipeline",
]
