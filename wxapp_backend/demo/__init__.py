"""Demo data for development and the end-to-end story."""
