"""The names every part of ketapredict agrees on, each held once: tasks, the id column, the
scoring output's columns, registered model names and labels, subgroups.

Nothing here imports anything heavy: the scoring CLI reads it before it knows whether it
will need LightGBM or MLflow.
"""

from __future__ import annotations

from typing import Literal

Task = Literal["responder", "relapse"]
TASKS: tuple[Task, ...] = ("responder", "relapse")
# The treatment-benefit task (ketapredict.benefit): its own table, learners and registry entry.
BENEFIT = "benefit"
AnyTask = Literal["responder", "relapse", "benefit"]
# What a benefit is against: the comparators of the randomized designs (the first: default).
COMPARATORS = ("saline", "midazolam")

ID = "patient_id"  # one patient across tables, splits and scoring output

# The probability column each task's model returns (pyfunc output, scoring output).
PROBABILITY: dict[Task, str] = {"responder": "p_response", "relapse": "p_relapse"}
# The outcome each task predicts, as the scoring output spells it in its column names.
OUTCOME: dict[AnyTask, str] = {"responder": "response", "relapse": "relapse", "benefit": "benefit"}

# The MLflow registry: one registered model per task; the alias scoring uses by default.
EXPERIMENT = "ketapredict"
CHAMPION = "champion"
REGISTERED: dict[AnyTask, str] = {task: f"ketapredict-{task}" for task in (*TASKS, BENEFIT)}


def learner_model(learner: str) -> str:
    """The registered model family of one benefit learner (the champion's is REGISTERED's)."""
    return f"{REGISTERED['benefit']}-{learner}"


def champion_uri(task: AnyTask) -> str:
    """The registry URI of `task`'s champion model."""
    return f"models:/{REGISTERED[task]}@{CHAMPION}"


# The three models evaluation compares: display label -> the folder each is saved in.
MODEL = "LightGBM"
BASELINE = "Logistic"
ORACLE = "Oracle (true risk)"
FOLDERS: dict[str, str] = {MODEL: "lightgbm", BASELINE: "logistic", ORACLE: "oracle"}

# Patient characteristics whose groups evaluation reports one by one.
SUBGROUPS = ("sex", "age_band", "trial", "route")
