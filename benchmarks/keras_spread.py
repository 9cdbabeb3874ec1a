"""The spread of the Keras exercise's reference fit over seeds, on this machine's backend and device.

    python benchmarks/keras_spread.py --seeds 20 [--out docs/measurements/keras_spread_cpu.json]
    KERAS_BACKEND=jax python benchmarks/keras_spread.py --seeds 20 --precision highest   # GPU, TF32 off
    KERAS_BACKEND=jax python benchmarks/keras_spread.py --seeds 20 --precision default   # GPU, TF32 on

Trains the reference solution exactly as the grader's train_model probe does (the figure's network
built and compiled by the harness, solutions' train_model, seed s) and reports, per seed, the final
MSE and R^2 recomputed with the grader's own NumPy forward pass, plus provenance. The thresholds in
autograder/assignments/05_keras_tanh/spec.py and docs/tolerances.md come from these numbers.
"""
import argparse
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--precision", choices=("default", "high", "highest"), default=None,
                    help="JAX matmul precision (GPU: default allows TF32, highest disables it)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.precision:
        import jax
        jax.config.update("jax_default_matmul_precision", args.precision)
    import keras
    import numpy as np
    import pandas as pd

    from autograder import probes, references
    from importlib import util
    sp = util.spec_from_file_location("spec05", os.path.join(ROOT, "autograder", "assignments", "05_keras_tanh", "spec.py"))
    spec05 = util.module_from_spec(sp)
    sp.loader.exec_module(spec05)

    ns = references.solution_namespace("05_keras_tanh")
    data = os.path.join(ROOT, "data", "dataset2.csv")
    frame = pd.read_csv(data)
    X, y = frame["x"].to_numpy().reshape(-1, 1), frame["y"].to_numpy()
    rows = []
    for seed in range(args.seeds):
        started = time.perf_counter()
        out = probes.probe_train_model(ns, data, seed=seed, net=spec05.NET)
        pred = spec05.forward(out["weights"], X)
        mse = float(np.mean((pred - y) ** 2))
        r2 = 1.0 - float(np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))
        curve = spec05.forward(out["weights"], spec05.CURVE)
        rows.append({"seed": seed, "mse": mse, "r2": r2, "last_loss": float(out["losses"][-1]),
                     "seconds": round(time.perf_counter() - started, 2), "curve": [round(float(v), 6) for v in curve]})
        print(f"seed {seed:2d}  mse {mse:.5f}  r2 {r2:.4f}  ({rows[-1]['seconds']} s)", flush=True)
    mses = [r["mse"] for r in rows]
    info = {"backend": keras.backend.backend(), "keras": keras.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "machine": platform.machine(), "precision": args.precision,
            "date": time.strftime("%Y-%m-%d")}
    info.update(references._backend_details(keras))
    summary = {"min_mse": min(mses), "max_mse": max(mses), "mean_mse": sum(mses) / len(mses),
               "min_r2": min(r["r2"] for r in rows), "max_r2": max(r["r2"] for r in rows)}
    print(json.dumps({"provenance": info, "summary": summary}, indent=1))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"provenance": info, "summary": summary, "seeds": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
