"""Generate and write N patients (default 1,000,000) in the default design mix; report time
and peak memory. Target: under 15 s and 3 GB on the 2-core reference machine."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from ketapredict.config import load_params
from ketapredict.layout import Layout, find_root
from ketapredict.stages import generate as stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=1_000_000)
    args = parser.parse_args()
    root = find_root(Path(__file__).parent)
    params = load_params(root / "params.yaml").generate
    total = sum(params.cohorts.values())
    sizes = {k: max(1, round(v * args.patients / total)) for k, v in params.cohorts.items()}
    params = params.model_copy(update={"cohorts": sizes})
    with tempfile.TemporaryDirectory() as tmp:
        paths = Layout(root)
        paths.synthetic = Path(tmp)
        paths.truth_summary = Path(tmp) / "truth.json"
        start = time.perf_counter()
        rows = stage.run(paths, params)
        seconds = time.perf_counter() - start
        size_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    result = {
        "benchmark": "generate",
        "patients": rows["patients"],
        "visits": rows["visits"],
        "seconds": round(seconds, 2),
        "peak_rss_gb": round(peak_gb, 2),
        "output_mb": round(size_mb, 1),
        "targets": {"seconds": 15, "peak_rss_gb": 3},
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
