"""Scoring new patients: read → validate → predict → write, models loaded first (`run.run`)."""
