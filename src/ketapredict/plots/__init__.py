"""Report figures drawn from computed curves and tables: pure matplotlib, no pyplot, no I/O."""

# The SHAP figures (ketapredict.plots.shap) are left out: they need shap, pyplot and the
# explain module, which the evaluate stage does without.

from ketapredict.plots.benefit import (
    plot_benefit_calibration,
    plot_calibration_for_benefit,
    plot_policy_value,
    plot_qini,
)
from ketapredict.plots.calibration import plot_calibration
from ketapredict.plots.curves import plot_decision_curve, plot_pr, plot_roc
from ketapredict.plots.importance import plot_importance, plot_truth_recovery
from ketapredict.plots.style import save_png
from ketapredict.plots.subgroups import plot_subgroups

__all__ = [
    "plot_benefit_calibration",
    "plot_calibration",
    "plot_calibration_for_benefit",
    "plot_decision_curve",
    "plot_importance",
    "plot_policy_value",
    "plot_pr",
    "plot_qini",
    "plot_roc",
    "plot_subgroups",
    "plot_truth_recovery",
    "save_png",
]
