"""Banking77 intent classification: full data and N-shot, through ragtune's classifier tuning.

    .venv/bin/python bench/classifier_banking77.py                       # full data, full fine-tune
    .venv/bin/python bench/classifier_banking77.py --shots 10            # 10 per label (SetFit)
    .venv/bin/python bench/classifier_banking77.py --shots 10 --method finetune

Trains on ``train.csv`` (10% of it held for validation), scores on the official ``test.csv``
(3,080 rows), and prints accuracy, macro-F1, the frozen-embedding baseline on the same training
rows, and wall and CPU time. Anchors (../shared/docs/anchors.md): BERT full data 93.66 %,
10-shot 85-90 %.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from ragtune.tune.classifier import train_classifier
from ragtune.tune.classifier_config import ClassifierTuneConfig
from ragtune.tune.prepare import prepare

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--shots", type=int, default=None)
    parser.add_argument("--method", default="auto", choices=["auto", "finetune", "setfit"])
    parser.add_argument("--epochs", type=float, default=4.0)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--setfit-iterations", type=int, default=5)
    args = parser.parse_args()
    if not (args.data / "train.csv").is_file():
        sys.exit(f"Banking77 not found at {args.data}: the shared data sets are absent")
    data = prepare(args.data / "train.csv", label_column="category", fractions=(0.9, 0.1, 0))
    test = prepare(args.data / "test.csv", label_column="category", fractions=(0, 0, 1))
    data.splits["test"] = test.splits["test"]
    config = ClassifierTuneConfig(method=args.method, shots=args.shots, epochs=args.epochs,
                                  learning_rate=args.learning_rate, setfit_iterations=args.setfit_iterations)
    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory() as folder:
        result = train_classifier(data, config, Path(folder), progress=True)
    after = resource.getrusage(resource.RUSAGE_SELF)
    m = result.metrics
    print(f"banking77 {'full' if not args.shots else f'{args.shots}-shot'} ({result.method}, {result.train_rows} training rows, "
          f"{m['test_rows']} test rows)")
    print(f"  accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}")
    print(f"  frozen MiniLM + logistic regression: accuracy {m['baseline_accuracy']:.4f}  macro-F1 {m['baseline_macro_f1']:.4f}")
    cpu_minutes = (after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime) / 60
    print(f"  training {result.train_seconds:.0f} s wall; whole run {time.perf_counter() - started:.0f} s wall, "
          f"{cpu_minutes:.1f} CPU-minutes")


if __name__ == "__main__":
    main()
