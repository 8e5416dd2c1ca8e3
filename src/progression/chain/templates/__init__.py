"""The HTML template of the report."""
