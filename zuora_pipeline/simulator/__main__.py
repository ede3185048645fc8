"""``python -m zuora_pipeline.simulator serve ...`` (used by process mode)."""

from zuora_pipeline.simulator.cli import simulator_group

if __name__ == "__main__":
    simulator_group(prog_name="python -m zuora_pipeline.simulator")
