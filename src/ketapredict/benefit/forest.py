"""A fitted causal forest as plain arrays, and its point estimates from them by numpy alone:
econml's compiled trees cannot be saved without pickle, and arrays can be checked on loading."""

from __future__ import annotations

from typing import Any

import numpy as np

from ketapredict.errors import ModelError

# Every tree's nodes, numbered across the forest: children (−1 at a leaf), split feature and
# threshold, and the leaf's local moment estimates (econml's "precond" and "jac").
FOREST_KEYS = ("roots", "left", "right", "feature", "threshold", "precond", "jac")


def forest_arrays(est: Any) -> dict[str, np.ndarray]:
    """The trees of a fitted econml CausalForestDML (one outcome, one binary treatment) as the
    arrays `forest_effect` reads."""
    (forest,) = est.model_final_.estimators_  # one GRF per outcome
    states = [tree.tree_.__getstate__() for tree in forest.estimators_]
    sizes = np.array([s["node_count"] for s in states])
    roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    nodes = [s["nodes"][: s["node_count"]] for s in states]

    def children(side: str) -> np.ndarray:
        return np.concatenate(
            [np.where(n[side] >= 0, n[side] + r, -1) for n, r in zip(nodes, roots, strict=True)]
        ).astype(np.int64)

    return {
        "roots": roots,
        "left": children("left_child"),
        "right": children("right_child"),
        "feature": np.concatenate([n["feature"] for n in nodes]).astype(np.int64),
        "threshold": np.concatenate([n["threshold"] for n in nodes]).astype(np.float64),
        "precond": np.concatenate([s["precond"][: s["node_count"]] for s in states]),
        "jac": np.concatenate([s["jac"][: s["node_count"]] for s in states]),
    }


def forest_effect(arrays: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """The forest's treatment effect at each row of X (finite): the local moment equations
    averaged over trees and solved, in the order econml does it, so the estimates are its own
    to the last bit."""
    roots, precond, jac = arrays["roots"], arrays["precond"], arrays["jac"]
    k = precond.shape[1]
    alpha = np.zeros((len(X), k))
    jacobian = np.zeros((len(X), k * k))
    for root in roots:
        leaf = _leaves(arrays, X, int(root))
        alpha += precond[leaf]
        jacobian += jac[leaf]
    alpha /= len(roots)
    jacobian /= len(roots)
    theta = np.einsum("ijk,ik->ij", np.linalg.pinv(jacobian.reshape((-1, k, k))), alpha)
    return theta[:, 0]


def _leaves(arrays: dict[str, np.ndarray], X: np.ndarray, root: int) -> np.ndarray:
    """The leaf each row of X reaches in the tree at `root` (left when x <= threshold)."""
    left, right, feature, threshold = (arrays[k] for k in ("left", "right", "feature", "threshold"))
    node = np.full(len(X), root, dtype=np.int64)
    rows = np.arange(len(X))
    while len(rows):
        at = node[rows]
        inner = left[at] >= 0
        rows, at = rows[inner], at[inner]
        go_left = X[rows, feature[at]] <= threshold[at]
        node[rows] = np.where(go_left, left[at], right[at])
    return node


def check_forest(arrays: dict[str, Any], n_features: int) -> None:
    """Refuse arrays that do not form a forest over `n_features` columns: every child lies
    after its parent (so every path ends), every index is in range."""
    if set(arrays) - {"medians"} != set(FOREST_KEYS) or not all(
        isinstance(arrays[k], np.ndarray) for k in FOREST_KEYS
    ):
        raise ModelError(f"not a causal forest: expected arrays {', '.join(FOREST_KEYS)}")
    left, right, feature = arrays["left"], arrays["right"], arrays["feature"]
    n = len(left)
    shapes_ok = (
        all(len(arrays[k]) == n for k in FOREST_KEYS[1:])
        and arrays["precond"].ndim == 2
        and arrays["jac"].shape == (n, arrays["precond"].shape[1] ** 2)
        and arrays["precond"].shape[1] >= 1
        and len(arrays["roots"]) >= 1
    )
    kinds_ok = all(arrays[k].dtype.kind == "i" for k in FOREST_KEYS[:4]) and all(
        arrays[k].dtype.kind == "f" for k in FOREST_KEYS[4:]
    )
    if not shapes_ok or not kinds_ok:
        raise ModelError("not a causal forest: its arrays disagree in length, shape or type")
    index = np.arange(n)
    inner = left >= 0
    valid = (
        np.all((arrays["roots"] >= 0) & (arrays["roots"] < n))
        and np.all(inner == (right >= 0))
        and np.all((left[inner] > index[inner]) & (left[inner] < n))
        and np.all((right[inner] > index[inner]) & (right[inner] < n))
        and np.all((feature[inner] >= 0) & (feature[inner] < n_features))
        and np.all(left[~inner] == -1)
    )
    if not valid:
        raise ModelError("not a causal forest: a node points outside the forest or backwards")
