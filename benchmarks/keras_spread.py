"""The spread of the Keras exercise's reference fit over seeds, on this machine's backend and device.

    python benchmarks/keras_spread.py --seeds 20 [--out docs/measurements/keras_spread_cpu.json]
    KERAS_BACKEND=jax python benchmarks/keras_spread.py --assignment 06_keras_digits --seeds 20 --wrong \
        [--out docs/measurements/keras_spread_06_cpu_jax.json]                  # 06: test accuracy
    KERAS_BACKEND=jax python benchmarks/keras_spread.py --seeds 20 --precision highest   # GPU, TF32 off
    KERAS_BACKEND=jax python benchmarks/keras_spread.py --seeds 20 --precision default   # GPU, TF32 on

Trains the reference solution exactly as the grader's train_model probe does (the figure's network
built and compiled by the harness, solutions' train_model, seed s) and reports, per seed, the final
MSE and R^2 recomputed with the grader's own NumPy forward pass, plus provenance. The thresholds in
autograder/assignments/05_keras_tanh/spec.py and docs/tolerances.md come from these numbers.

--assignment 06_keras_digits: the same for the digits classifier (06's train probe on the lecture's
network, the reference's train_classifier, seed s), test accuracy by 06's NumPy forward pass on the
450 test images; --wrong adds the wrong models the threshold is checked against (no hidden layer,
sigmoid hidden layer, plain SGD, one epoch, unscaled pixels). With KERAS_BACKEND=jax on the CPU it
runs single-threaded, as the grader's sandbox does (sandbox.JAX_CPU_ENV).
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
    ap.add_argument("--assignment", default="05_keras_tanh", choices=("05_keras_tanh", "06_keras_digits"))
    ap.add_argument("--wrong", action="store_true", help="06: also measure the wrong models")
    args = ap.parse_args()
    if args.assignment == "06_keras_digits":
        return spread_06(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.precision:
        import jax
        jax.config.update("jax_default_matmul_precision", args.precision)
    import keras
    import numpy as np
    import pandas as pd

    from autograder import references
    folder = os.path.join(ROOT, "autograder", "assignments", "05_keras_tanh")
    spec05 = _load(os.path.join(folder, "spec.py"), "spec05")
    probes = _load(os.path.join(folder, "probes.py"), "probes05")   # the assignment's child-side probes

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


def _load(path, name):
    from importlib import util
    sp = util.spec_from_file_location(name, path)
    module = util.module_from_spec(sp)
    sp.loader.exec_module(module)
    return module


# 06's wrong models: (changes to the lecture network, epochs, pixel scale of train and test images)
WRONG_06 = {
    "no hidden layer": ({"units": [10], "activations": ["softmax"]}, None, 1),
    "sigmoid hidden layer": ({"activations": ["sigmoid", "softmax"]}, None, 1),
    "plain SGD (learning rate 0.01)": ({"optimizer": "SGD", "learning_rate": 0.01}, None, 1),
    "one epoch": ({}, 1, 1),
    "unscaled pixels (0..16)": ({}, None, 16),
}


def spread_06(args):
    import numpy as np
    if os.environ.get("KERAS_BACKEND") == "jax" and not args.precision:
        try:
            from autograder.sandbox import JAX_CPU_ENV
        except ImportError:  # the sandbox package split by concern
            from autograder.sandbox.isolation import JAX_CPU_ENV
        for key, value in JAX_CPU_ENV.items():   # one XLA thread, as in the grader's sandbox
            os.environ.setdefault(key, value)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.precision:
        import jax
        jax.config.update("jax_default_matmul_precision", args.precision)
    import keras

    from autograder import references
    folder = os.path.join(ROOT, "autograder", "assignments", "06_keras_digits")
    spec06 = _load(os.path.join(folder, "spec.py"), "spec06")
    probes06 = _load(os.path.join(folder, "probes.py"), "probes06")
    ns = references.solution_namespace("06_keras_digits")
    _, X_test, _, y_test = probes06.digits_split(**spec06.SPLIT)

    def test_accuracy(weights, activations, scale):
        h = np.asarray(X_test, dtype=np.float64).reshape(len(X_test), -1) * scale
        for i, (W, b) in enumerate(zip(weights[0::2], weights[1::2])):
            h = h @ W + b
            if i < len(weights) // 2 - 1:
                h = np.maximum(h, 0) if activations[i] == "relu" else 1 / (1 + np.exp(-h))
        return float(np.mean(np.argmax(h, axis=1) == y_test))

    def run(label, change, epochs, scale):
        net = dict(spec06.NET, **change)
        def unscaled(model, X, y, epochs=spec06.EPOCHS):   # the student who forgot to divide by 16
            return ns["train_classifier"](model, X * scale, y, epochs=epochs)

        train = ns["train_classifier"] if scale == 1 else unscaled
        rows = []
        for seed in range(args.seeds):
            probes06._RUNS.clear()
            started = time.perf_counter()
            out = probes06.probe_train_classifier({"train_classifier": train}, net, seed=seed, epochs=epochs,
                                                  split=spec06.SPLIT)
            acc = test_accuracy(out["weights"], net["activations"], scale)
            rows.append({"seed": seed, "accuracy": acc, "last_loss": float(out["losses"][-1]),
                         "steps": out["iterations"], "seconds": round(time.perf_counter() - started, 2)})
            print(f"{label:32s} seed {seed:2d}  accuracy {acc:.4f}  loss {rows[-1]['last_loss']:.4f}  "
                  f"({rows[-1]['seconds']} s)", flush=True)
        accs = [r["accuracy"] for r in rows]
        return {"min": min(accs), "mean": sum(accs) / len(accs), "max": max(accs), "seeds": rows}

    results = {"reference": run("reference", {}, None, 1)}
    if args.wrong:
        for label, (change, epochs, scale) in WRONG_06.items():
            results[label] = run(label, change, epochs, scale)
    info = {"assignment": "06_keras_digits", "backend": keras.backend.backend(), "keras": keras.__version__,
            "numpy": np.__version__, "python": platform.python_version(), "machine": platform.machine(),
            "precision": args.precision, "date": time.strftime("%Y-%m-%d"), "split": spec06.SPLIT,
            "epochs": spec06.EPOCHS, "cpu_count": os.cpu_count()}
    info.update(references._backend_details(keras))
    summary = {k: {"min": v["min"], "mean": round(v["mean"], 4), "max": v["max"]} for k, v in results.items()}
    print(json.dumps({"provenance": info, "summary": summary}, indent=1))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"provenance": info, "summary": summary, "runs": results}, fh, indent=1)


if __name__ == "__main__":
    main()
