"""The complaint-theme classifier on the held-out split of the generated corpus: per-theme precision and
recall, macro-F1 (target ≥ 0.90), the model's load time and texts classified per second on one core:

    .venv/bin/python benchmarks/bench_classifier.py [--per-theme N] [--seed N]

Texts/s is CPU time of this process (time.process_time), so a busy machine does not understate what
one core does; the wall-clock rate is printed beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from service.residents.classifier import MODEL_PATH, ThemeClassifier  # noqa: E402
from service.residents.corpus import generate  # noqa: E402
from service.residents.evaluation import score_predictions  # noqa: E402
from service.residents.themes import THEME_BY_KEY  # noqa: E402
from service.residents.train import HELD_OUT_PER_THEME, SEED  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-theme", type=int, default=HELD_OUT_PER_THEME)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    loads = []
    for _ in range(5):
        started = time.perf_counter()
        classifier = ThemeClassifier.load()
        loads.append(time.perf_counter() - started)
    pairs = generate("held_out", per_theme=args.per_theme, seed=args.seed)
    texts = [text for text, _ in pairs]

    cpu_started, wall_started = time.process_time(), time.perf_counter()
    predicted = [classifier.classify(text).theme for text in texts]
    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
    result = score_predictions([theme for _, theme in pairs], predicted, classifier.themes)

    print(f"model {MODEL_PATH.name}: {MODEL_PATH.stat().st_size / 1024:.0f} KiB, {len(classifier.weights)} n-grams")
    print(f"held-out split: {len(pairs)} texts, seed {args.seed}, phrasings and frames not in training\n")
    print(f"{'theme':<18}{'precision':>10}{'recall':>8}{'F1':>8}{'n':>6}  label")
    for row in result.per_theme:
        label = THEME_BY_KEY[row.theme].label
        print(f"{row.theme:<18}{row.precision:>10.3f}{row.recall:>8.3f}{row.f1:>8.3f}{row.support:>6}  {label}")
    print(f"\nmacro-F1 {result.macro_f1:.4f} (target ≥ 0.90), accuracy {result.accuracy:.4f}")
    load_s, rate = sorted(loads)[len(loads) // 2], len(texts) / cpu
    print(f"load: median {load_s * 1000:.0f} ms, first {loads[0] * 1000:.0f} ms (target well under 1 s)")
    print(f"classify: {rate:,.0f} texts/s on one core (CPU; target ≥ 2,000), {len(texts) / wall:,.0f}/s wall clock")
    missed = [
        what
        for what, met in (
            ("macro-F1 0.90", result.macro_f1 >= 0.90),
            ("load < 1 s", load_s < 1.0),
            ("2,000 texts/s", rate >= 2000),
        )
        if not met
    ]
    if missed:
        sys.exit(f"below target: {', '.join(missed)}")


if __name__ == "__main__":
    main()
