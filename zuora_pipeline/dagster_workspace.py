"""The development workspace: this package's code location loaded by module, as the repository's
``workspace.yaml`` loads it (``dagster dev``, the demo's printed commands, the bench's daemon).
A deployment names its location as it likes (e.g. a ``grpc_server`` entry): nothing depends on
this name."""

LOCATION_NAME = "zuora_pipeline"
WORKSPACE_YAML = f"""load_from:
  - python_module:
      module_name: zuora_pipeline.definitions
      location_name: {LOCATION_NAME}
"""
