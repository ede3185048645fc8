# Fixtures live in small plugin modules so each layer's helpers are found by name.
pytest_plugins = [
    "zuora_pipeline_tests.fixtures.simulator",
    "zuora_pipeline_tests.fixtures.warehouse",
]
