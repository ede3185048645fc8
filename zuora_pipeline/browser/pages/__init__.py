"""The browser's routes, one module per area."""
