"""A user's own cohort: the input contract (schema), its check, and its import."""
