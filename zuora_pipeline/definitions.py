"""The code location: ``zuora_pipeline.definitions:defs``, the pipeline with its default names."""

import gc

import dagster as dg

from zuora_pipeline.defs.factory import build_definitions
from zuora_pipeline.defs.options import PipelineOptions

# Materializations launched from the UI run their steps in the run's process too (see defs/jobs.py).
defs = build_definitions(PipelineOptions.from_environment(), executor=dg.in_process_executor)

# Everything loaded so far (Dagster and ~1,700 modules, the definitions) lives as long as the
# process: frozen, the garbage collector no longer traverses it, neither in every full collection
# nor at interpreter teardown, which otherwise costs a run worker ~0.5 s of CPU as it exits.
gc.freeze()
