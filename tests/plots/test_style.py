"""The house style: figures without pyplot, deterministic PNG bytes, fixed series styles."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from ketapredict import plots
from ketapredict.contract import MODEL
from ketapredict.plots import style
from tests.plots.helpers import decision_curves, subgroup_table


def test_importing_and_drawing_never_loads_pyplot() -> None:
    code = (
        "import sys\n"
        "import pandas as pd\n"
        "from ketapredict import plots\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported by plots'\n"
        "assert 'ketapredict.plots.shap' not in sys.modules, 'SHAP figures imported by plots'\n"
        "fig = plots.plot_roc({'LightGBM': pd.DataFrame({'fpr': [0, 1], 'tpr': [0, 1]})})\n"
        "assert plots.save_png(fig).startswith(b'\\x89PNG')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported when drawing'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_save_png_is_deterministic_png() -> None:
    first = plots.save_png(plots.plot_decision_curve(decision_curves()))
    second = plots.save_png(plots.plot_decision_curve(decision_curves()))
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert first == second
    assert b"Matplotlib" not in first  # no version stamp to change the bytes on upgrade


def test_figures_draw_identically_in_threads() -> None:
    def draw(_: int) -> bytes:
        return plots.save_png(plots.plot_subgroups(subgroup_table(), overall=0.7), dpi=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        images = list(pool.map(draw, range(4)))
    assert len(set(images)) == 1


def test_known_series_keep_their_style_and_others_take_the_next_colour() -> None:
    assert style.series_style(MODEL, 5) == style.SERIES[MODEL]
    assert style.series_style(MODEL, 0) is not style.SERIES[MODEL]  # a copy: callers may edit
    others = [style.series_style(f"model {i}", i)["color"] for i in range(5)]
    assert others == [*style.OTHER_COLOURS, style.OTHER_COLOURS[0]]


def test_ci_label_with_and_without_an_interval() -> None:
    assert style.ci_label("x", "AUROC", None) == "x"
    assert style.ci_label("x", "AUROC", (0.714, 0.7, 0.73)) == "x (AUROC 0.71, 95% CI 0.70–0.73)"
