"""Performance measures for binary clinical prediction models: discrimination, calibration, use."""

from ketapredict.metrics.accuracy import brier, log_loss, scaled_brier
from ketapredict.metrics.calibration import (
    SmoothedCalibration,
    binned_calibration,
    calibration_error_vs_truth,
    calibration_intercept,
    calibration_intercept_slope,
    calibration_slope,
    smoothed_calibration,
)
from ketapredict.metrics.decision import (
    counterfactual_net_benefit,
    net_benefit,
    net_benefit_treat_all,
)
from ketapredict.metrics.discrimination import auprc, auroc, discrimination
from ketapredict.metrics.resampling import (
    BOOTSTRAP_METRICS,
    STRATIFIED,
    bootstrap_ci,
    bootstrap_counts,
    bootstrap_metrics,
    optimism_corrected,
    percentile_bounds,
    percentile_interval,
    resample_counts,
)

__all__ = [
    "BOOTSTRAP_METRICS",
    "STRATIFIED",
    "SmoothedCalibration",
    "auprc",
    "auroc",
    "binned_calibration",
    "bootstrap_ci",
    "bootstrap_counts",
    "bootstrap_metrics",
    "brier",
    "calibration_error_vs_truth",
    "calibration_intercept",
    "calibration_intercept_slope",
    "calibration_slope",
    "counterfactual_net_benefit",
    "discrimination",
    "log_loss",
    "net_benefit",
    "net_benefit_treat_all",
    "optimism_corrected",
    "percentile_bounds",
    "percentile_interval",
    "resample_counts",
    "scaled_brier",
    "smoothed_calibration",
]
