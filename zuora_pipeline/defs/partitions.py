"""One dynamic partition per customer: its key is the customer's ``name``."""

import dagster as dg

customers_partitions = dg.DynamicPartitionsDefinition(name="customers")
