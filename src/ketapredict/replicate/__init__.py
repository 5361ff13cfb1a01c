"""Reproduce published trials' headline statistics on synthetic cohorts."""
