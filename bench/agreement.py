"""Times the full agreement report (every figure, 1,000 bootstrap resamples) on synthetic crowd labels.

    python bench/agreement.py           # 100k and 1M labels (targets: < 5 s and < 60 s on 2 cores)
    python bench/agreement.py --quick   # 100k labels only (under a minute)

Data: four dimensions (Likert 1-5 ordinal, slider 0-100 interval, 3-way choice nominal,
levels 0-2 ordinal), 5 annotators per item drawn from a pool, each annotator with their own
noise. Before timing, alpha's point estimate is checked against the krippendorff package on
every dimension. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotations.agreement.matrix import Ratings  # noqa: E402
from annotations.agreement.reliability import alpha  # noqa: E402
from annotations.agreement.report import agreement_report, ratings_by_dimension  # noqa: E402

DIMENSIONS = [
    {"name": "empathy", "type": "likert", "level": "ordinal", "min": 1, "max": 5, "step": 1, "choices": []},
    {"name": "warmth", "type": "slider", "level": "interval", "min": 0, "max": 100, "step": 1, "choices": []},
    {"name": "mechanism", "type": "choice", "level": "nominal", "min": None, "max": None, "step": None,
     "choices": [{"value": v, "label": v} for v in ("none", "weak", "strong")]},
    {"name": "exploration", "type": "levels", "level": "ordinal", "min": 0, "max": 2, "step": 1, "choices": []},
]
OVERLAP = 5


def synthetic_frame(n_labels: int, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_items = n_labels // (OVERLAP * len(DIMENSIONS))
    n_annotators = max(50, n_items // 50)
    annotators = np.stack([rng.choice(n_annotators, size=OVERLAP, replace=False) for _ in range(min(n_items, 4096))])
    annotators = annotators[rng.integers(0, len(annotators), size=n_items)].ravel()
    items = np.repeat(np.arange(n_items), OVERLAP)
    noise = rng.uniform(0.3, 1.5, size=n_annotators)[annotators]
    latent = rng.normal(size=n_items)[items] + rng.normal(size=items.size) * noise
    values = {
        "empathy": np.clip(np.round(3 + latent), 1, 5),
        "warmth": np.clip(np.round(50 + 20 * latent), 0, 100),
        "mechanism": np.array(["none", "weak", "strong"])[np.digitize(latent, [-0.5, 0.5])],
        "exploration": np.digitize(latent, [-0.3, 0.8]).astype(float),
    }
    item_ids = np.char.add("i", items.astype(str))
    annotator_ids = np.char.add("a", annotators.astype(str))
    seconds = rng.gamma(4.0, 5.0, size=items.size)
    frames = [
        pd.DataFrame({"item": item_ids, "unit": item_ids, "annotator": annotator_ids, "dimension": name,
                      "value": column, "seconds": seconds})
        for name, column in values.items()
    ]
    countries = np.array(["uk", "us", "in", "za"])
    attributes = pd.DataFrame({"country": countries[np.arange(n_annotators) % 4]},
                              index=np.char.add("a", np.arange(n_annotators).astype(str)))
    return pd.concat(frames, ignore_index=True), attributes


def check_against_package(frame: pd.DataFrame) -> float:
    """Largest |ours - krippendorff package| over the dimensions (point estimates)."""
    import krippendorff

    worst = 0.0
    specs = {d["name"]: d for d in DIMENSIONS}
    for name, ratings in ratings_by_dimension(frame, DIMENSIONS).items():
        level = specs[name]["level"]
        theirs = krippendorff.alpha(reliability_data=ratings.matrix(), level_of_measurement=level)
        worst = max(worst, abs(alpha(Ratings.from_matrix(ratings.matrix()), level) - theirs),
                    abs(alpha(ratings, level) - theirs))
    return worst


def run(n_labels: int, n_bootstrap: int, *, check: bool) -> dict:
    frame, attributes = synthetic_frame(n_labels)
    result = {"labels": len(frame), "items": int(frame["item"].nunique()),
              "annotators": int(frame["annotator"].nunique()), "bootstrap": n_bootstrap}
    if check:
        result["max_abs_diff_vs_krippendorff"] = check_against_package(frame)
    start = time.perf_counter()
    report = agreement_report(frame, DIMENSIONS, n_bootstrap=n_bootstrap, seed=0)
    result["report_seconds"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    agreement_report(frame, DIMENSIONS, attributes, by=["country"], n_bootstrap=n_bootstrap, seed=0)
    result["report_by_country_seconds"] = round(time.perf_counter() - start, 2)
    result["alpha"] = {name: round(f["krippendorff_alpha"], 4) for name, f in report["dimensions"].items()}
    print(f"{len(frame):>9,} labels  report {result['report_seconds']:6.2f} s  "
          f"by country {result['report_by_country_seconds']:6.2f} s  alpha {result['alpha']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k labels only")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    results = [run(n, args.bootstrap, check=n <= 100_000) for n in sizes]
    print(json.dumps({"bench": "agreement", "cpus": os.cpu_count(), "targets_s": {"100000": 5, "1000000": 60},
                      "runs": results}))


if __name__ == "__main__":
    main()
