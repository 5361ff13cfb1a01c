"""ketapredict: ketamine outcome prediction on synthetic trial-modeled cohorts (research use)."""

__version__ = "0.1.0"

RESEARCH_NOTICE = (
    "Research use only: ketapredict models are trained on synthetic data (or on your own "
    "cohort, which has no truth to check them against) and must not be used for clinical "
    "decisions."
)
