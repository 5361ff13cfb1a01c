"""The synthetic cohort generator: declarative trial specs walked by one vectorized engine."""
