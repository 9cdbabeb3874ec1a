"""The Keras questions' backend and the shared XLA compilation cache (issue 6).

05_keras_tanh is graded on Keras's JAX backend where JAX is installed (spec.env), and a grading
run compiles the network's training and prediction steps once, in a warm-up sandbox that runs no
student code (sandbox.CompileCache). These tests check what that must not break: a student cannot
write to the cache the next student's process trusts; a student's training really reads it; and
the numbers are the same with and without it.
"""
import hashlib
import importlib.util
import os
import time
from pathlib import Path

import pytest

from autograder import grading, sandbox
from autograder import spec as specmod

REPO = Path(__file__).resolve().parent.parent
SPEC = specmod.load_spec("05_keras_tanh")
HAVE_JAX = importlib.util.find_spec("jaxlib") is not None
needs_cache = pytest.mark.skipif(not (HAVE_JAX and sandbox.bwrap_available()),
                                 reason="needs JAX and a bubblewrap sandbox (the cache is only used in one)")
pytestmark = [pytest.mark.keras, pytest.mark.xdist_group("keras-cache")]


def test_sandbox_env_prefers_the_spec_backend_when_installed(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_KERAS_BACKEND", raising=False)
    env, note = specmod.sandbox_env(SPEC)
    if HAVE_JAX:
        assert env["KERAS_BACKEND"] == "jax" and note is None
    else:
        assert env["KERAS_BACKEND"] == "tensorflow" and "jax" in note


def test_sandbox_env_falls_back_to_tensorflow_with_a_note(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_KERAS_BACKEND", raising=False)
    real = importlib.util.find_spec
    monkeypatch.setattr(specmod.importlib.util, "find_spec", lambda name, *a: None if name == "jaxlib" else real(name, *a))
    env, note = specmod.sandbox_env(SPEC)
    assert env["KERAS_BACKEND"] == "tensorflow"
    assert "jax is not installed" in note


def test_sandbox_env_override(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_KERAS_BACKEND", "tensorflow")
    env, note = specmod.sandbox_env(SPEC, sandbox.GraderConfig.from_env().keras_backend)
    assert env["KERAS_BACKEND"] == "tensorflow" and note is None
    assert specmod.sandbox_env(specmod.load_spec("01_perceptron")) == ({}, None)


@pytest.fixture(autouse=True)
def own_stored_caches(tmp_path, monkeypatch):
    """Each test stores (and finds) finished caches in a folder of its own, not the user's."""
    root = tmp_path / "stored-xla"
    monkeypatch.setattr(sandbox.pool, "_stored_root", lambda: str(root))
    caches = {}
    monkeypatch.setattr(sandbox.pool, "_compile_caches", caches)
    yield root
    for cache in caches.values():
        if cache.thread is not None:
            cache.thread.join(timeout=300)
        cache.close()


def _warm_cache(stored=False):
    setup, _, _ = grading.sandbox_setup(SPEC, sandbox.GraderConfig.from_env(isolation="auto"))
    cache = sandbox.CompileCache(setup, [specmod.encode_call(c) for c in SPEC.warmup], stored=stored)
    cache.thread.join(timeout=300)
    assert cache.error is None, cache.error
    assert cache.entries > 0 and len(os.listdir(cache.path)) == cache.entries
    return cache, setup


def _digest(folder):
    return {name: hashlib.sha256((Path(folder) / name).read_bytes()).hexdigest() for name in sorted(os.listdir(folder))}


STUDENT = r'''
import os, numpy as np, keras, jax

def attack():
    """What a student's code can do to the cache its sandbox reads."""
    folder = os.environ.get("JAX_COMPILATION_CACHE_DIR", "")
    out = {"folder": folder, "listed": sorted(os.listdir(folder)) if folder else []}
    def attempt(label, fn):
        try:
            fn()
            out[label] = "done"
        except OSError as exc:
            out[label] = type(exc).__name__
    victim = os.path.join(folder, out["listed"][0]) if out["listed"] else folder + "/missing"
    attempt("create", lambda: open(os.path.join(folder, "planted-cache"), "wb").write(b"x"))
    attempt("overwrite", lambda: open(victim, "r+b").write(b"evil"))
    attempt("delete", lambda: os.unlink(victim))
    attempt("chmod", lambda: os.chmod(folder, 0o777))
    attempt("rename", lambda: os.rename(victim, victim + ".old"))
    return out

def train_twice():
    """Train the figure's network for 2 epochs; count JAX's compilation-cache hits meanwhile."""
    hits = []
    jax.monitoring.register_event_listener(
        lambda event, **kw: hits.append(event) if event == "/jax/compilation_cache/cache_hits" else None)
    X = np.linspace(0, 1, 1000).reshape(-1, 1)
    y = 0.7 * np.sin(2 * np.pi * X[:, 0])
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(6, activation="tanh"),
                              keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1, activation="tanh")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse", steps_per_execution=32)
    model.fit(X, y, epochs=2, verbose=0)
    return {"hits": len(hits), "weights": [np.asarray(w, dtype=np.float64) for w in model.get_weights()],
            "backend": keras.backend.backend()}
'''


def _session(setup, xla_cache):
    from dataclasses import replace
    return sandbox.Session([{"index": 0, "source": STUDENT}], replace(setup, xla_cache=xla_cache), pool=None)


def _call(session, name):
    from autograder.child import wire
    with session.question(name) as run:
        reply = run.call(specmod.encode_call(specmod.call(name)), timeout=120)
    assert reply["ok"], reply
    return wire.decode(reply["value"])


@needs_cache
def test_students_cannot_change_the_cache_and_do_read_it():
    cache, setup = _warm_cache()
    try:
        before = _digest(cache.path)
        with _session(setup, cache.path) as session:
            seen = _call(session, "attack")
            trained = _call(session, "train_twice")
        assert seen["folder"] == sandbox.XLA_CACHE_MOUNT
        assert sorted(seen["listed"]) == sorted(before)  # it sees the warm-up's entries ...
        for what in ("create", "overwrite", "delete", "chmod", "rename"):
            assert seen[what] != "done", (what, seen)  # ... and can change none of them
        assert _digest(cache.path) == before
        assert trained["backend"] == "jax"
        assert trained["hits"] > 0  # the training step came from the cache, not from XLA

        with _session(setup, None) as session:  # the same code without a cache
            cold = _call(session, "train_twice")
        assert cold["hits"] == 0
        for a, b in zip(trained["weights"], cold["weights"]):
            assert (a == b).all()  # cached executables compute exactly what a fresh compilation does
    finally:
        cache.close()
    assert not os.path.exists(cache.path)


@needs_cache
def test_grading_with_the_shared_cache_gives_the_same_result():
    """A class graded with the warm-up (batch, warm=True) scores as one student checked alone."""
    sample = str(REPO / "samples" / "05_keras_tanh" / "bob.ipynb")
    alone = grading.grade_file(sample, warm=False)
    shared = [grading.grade_file(sample, warm=True) for _ in range(2)]  # the second after the warm-up
    for _ in range(600):
        if all(c.thread is None or not c.thread.is_alive() for c in sandbox.pool._compile_caches.values()):
            break
        time.sleep(0.1)
    shared.append(grading.grade_file(sample, warm=True))

    def fingerprint(result):
        return [(t["name"], t["score"], [(c["name"], c["passed"], c.get("extra", {}).get("student"))
                                         for c in t["extra_data"]["cases"]]) for t in result["tests"]]
    for result in shared:
        assert fingerprint(result) == fingerprint(alone)
        assert result["extra_data"]["keras_backend"] == "jax"
    assert alone["score"] < alone["max_score"]  # bob's mistake is still found


_FRESH_REFERENCE = r"""
import json
import numpy as np
from autograder import references
try:
    from autograder.child import wire
except ImportError:
    from autograder import wire
public, _ = references.build("05_keras_tanh", write=False)
fit = next(c for c in public["questions"]["train_model"] if wire.decode(c["expected"])["aspect"] == "fit")
expected = wire.decode(fit["expected"])
print(json.dumps({"curve": np.round(np.asarray(expected["reference_curve"]), 6).tolist(),
                  "mse": expected["reference_mse"], "backend": public["provenance"].get("backend")}))
"""


def _fresh_reference():
    """The fit case's reference built now, on this machine, in a fresh process (the backend and
    thread settings of `autograder reference`), without writing the stored files."""
    import json
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KERAS_", "XLA_", "JAX_"))}
    proc = subprocess.run([sys.executable, "-c", _FRESH_REFERENCE], cwd=str(REPO), env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_cache
def test_the_solution_graded_in_the_sandbox_passes_the_stored_threshold_and_matches_a_fresh_reference():
    """What the stored reference promises on any machine: a correct train_model's fit passes its
    measured threshold (FIT_MSE_FACTOR x the stored reference's MSE). Bit-for-bit reproduction is
    promised only against a reference built on the same machine: the reference build (in process,
    `autograder reference`) and the sandbox run the same computation (same backend, same
    single-threaded XLA), so a correct student's curve is the curve of a reference built in this
    run, to the last bit, and the fit threshold only has to cover real differences."""
    import importlib
    spec_module = importlib.import_module("autograder.assignments.05_keras_tanh.spec")
    result = grading.grade_file(str(REPO / "samples" / "05_keras_tanh" / "alice.ipynb"), warm=True)
    assert result["extra_data"]["reference"]["backend"] == result["extra_data"]["keras_backend"] == "jax"
    assert result["score"] == result["max_score"]
    fits = [c for t in result["tests"] for c in t["extra_data"]["cases"]
            if (c.get("extra") or {}).get("figure") == "fit"]
    assert len(fits) == 1 and fits[0]["passed"]           # within the stored, measured threshold
    student = fits[0]["extra"]["student"]

    fresh = _fresh_reference()                            # built now, on this machine
    assert fresh["backend"] == "jax"
    from autograder import references
    stored, _ = references.load("05_keras_tanh", include_hidden=False)
    stored_mse = next(c for c in stored["train_model"] if c["expected"]["aspect"] == "fit")["expected"]["reference_mse"]
    assert fresh["mse"] <= spec_module.FIT_MSE_FACTOR * stored_mse   # this machine's reference passes too
    assert student == fresh["curve"]                      # and the sandbox reproduces it exactly


@needs_cache
def test_a_finished_warm_up_is_stored_and_read_again_only_when_it_is_whole_and_ours(own_stored_caches):
    """The next run (and a check) reads the stored copy of a finished warm-up instead of warming up
    again; a stored folder that is incomplete or that someone else could have written is not read."""
    cache, setup = _warm_cache(stored=True)
    calls = [specmod.encode_call(c) for c in SPEC.warmup]
    stored = sandbox.pool.stored_compile_cache(setup, calls)
    try:
        assert stored.startswith(str(own_stored_caches)) and cache.path != stored
        assert os.path.exists(os.path.join(stored, "COMPLETE"))
        assert {k: v for k, v in _digest(stored).items() if k != "COMPLETE"} == _digest(cache.path)
        assert sandbox.stored_cache_path(setup, calls) == stored

        again = sandbox.CompileCache(setup, calls)
        assert again.reused and again.thread is None and again.path == stored
        assert again.entries == cache.entries
        again.close()
        assert os.path.isdir(stored)  # a run's end removes its own folders, not the stored one

        # what a student's check then gets: the stored folder, read-only, with the warm-up's entries
        check_setup, _, _ = grading.sandbox_setup(SPEC, sandbox.GraderConfig.from_env(isolation="auto"), warm=False)
        assert check_setup.xla_cache == stored
        fresh = sandbox.GraderConfig.from_env({"AUTOGRADER_FRESH_COMPILE_CACHE": "1"}, isolation="auto")
        assert fresh.reuse_compile_cache is False
        assert grading.sandbox_setup(SPEC, fresh, warm=False)[0].xla_cache is None
        with _session(setup, stored) as session:
            assert sorted(_call(session, "attack")["listed"]) == sorted(_digest(stored))

        os.chmod(stored, 0o777)  # writable by anyone: not trusted
        assert sandbox.stored_cache_path(setup, calls) is None
        os.chmod(stored, 0o755)
        os.unlink(os.path.join(stored, "COMPLETE"))  # not marked whole: not trusted
        assert sandbox.stored_cache_path(setup, calls) is None
        assert sandbox.pool.stored_compile_cache(setup, calls[:-1]) != stored  # other calls, another folder
    finally:
        cache.close()
