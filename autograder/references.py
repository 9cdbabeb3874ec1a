"""References: expected values computed by running solutions/ on every case of a spec, stored
with their provenance. Public cases go to `assignments/<name>/references/public.json` (shipped to students);
hidden ones to `hidden.json` beside it (never shipped). Grading reads these files and never
imports solutions/ for expected values.
"""
import datetime
import functools
import json
import os
import platform
import shutil
import sys
import tempfile

import numpy as np

from . import spec as specmod
from .child import wire, worker



def ref_dir(assignment):
    """Where an assignment's stored references live: autograder/assignments/<name>/references/."""
    return os.path.join(specmod.assignment_dir(assignment), "references")


def ref_path(assignment, kind):
    """kind: "public" (shipped to students) or "hidden" (never shipped)."""
    return os.path.join(ref_dir(assignment), f"{kind}.json")


def solution_path(assignment):
    return os.path.join(specmod.repo_root(), "solutions", f"{assignment}.py")


def solution_source(assignment):
    path = solution_path(assignment)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def solution_namespace(assignment):
    source = solution_source(assignment)
    if source is None:
        raise FileNotFoundError(f"solutions/{assignment}.py is not here (references are rebuilt from the repository)")
    ns = {"__name__": f"solution_{assignment}"}
    exec(compile(source, solution_path(assignment), "exec"), ns)
    return ns


_functions = {}


def solution_functions(assignment):
    """{name: function} of solutions/<assignment>.py, loaded once per process, for the trusted side
    only (injected helpers are served from here, never sent to a sandbox); {} where the
    solutions are not here (the student bundle, the Gradescope zip)."""
    if assignment not in _functions:
        try:
            ns = solution_namespace(assignment)
        except FileNotFoundError:
            ns = {}
        _functions[assignment] = {k: v for k, v in ns.items() if callable(v) and not k.startswith("_")}
    return _functions[assignment]


def provenance(assignment, device, seed, extra=None):
    info = {"assignment": assignment, "device": device, "seed": seed,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "processor": platform.processor() or platform.machine()}
    if extra:
        info.update(extra)
    return info


SECRET_NAME = "secret.txt"


def course_seed(assignment, create=False):
    """The seed of the hidden cases: drawn from the course's own secret (references/secret.txt beside
    the hidden references, made by `autograder reference` or `autograder nbgrader init` when missing,
    never shipped: not in the student bundle, so nothing a student receives regenerates the hidden
    inputs, and each course or term that makes its own secret gets its own hidden cases). None
    when there is no secret (the spec's hidden_seed is used then)."""
    path = os.path.join(ref_dir(assignment), SECRET_NAME)
    if not os.path.exists(path) and create:
        import secrets
        os.makedirs(ref_dir(assignment), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        os.chmod(path, 0o600)
    try:
        with open(path, encoding="utf-8") as fh:
            secret = fh.read().strip()
    except OSError:
        return None
    import hashlib
    return int.from_bytes(hashlib.sha256(f"{secret}:{assignment}".encode()).digest()[:8], "big")


def build(assignment, device="cpu", seed=None, write=True):
    """Run the solution on every case and return (public, hidden) reference documents."""
    spec = specmod.load_spec(assignment)
    if any(q.needs_keras for q in spec.questions):
        _use_sandbox_env(spec, device)  # before the solution's own `import keras`
    ns = solution_namespace(assignment)
    if seed is None:
        seed = course_seed(assignment, create=write)
    seed_shown = "course secret" if seed is not None and seed != spec.hidden_seed else seed
    seed = spec.hidden_seed if seed is None else seed
    rng = np.random.default_rng(seed)
    extra = {}
    if any(q.needs_keras for q in spec.questions):
        import keras
        extra = {"keras": keras.__version__, "backend": keras.backend.backend()}
        extra.update(_backend_details(keras))
        if device == "gpu" and "gpu" not in str(extra.get("device_name", "")).lower() \
                and "cuda" not in str(extra.get("device_name", "")).lower():
            raise RuntimeError(f"--device gpu, but Keras's {extra['backend']} backend sees no GPU "
                               f"({extra.get('device_name')}); on a GPU machine without TensorFlow use KERAS_BACKEND=jax")
    old_cwd = os.getcwd()
    # Run where the sandbox runs: a scratch directory holding only the spec's data files (what a
    # case writes there, File(...), does not land in the repository).
    data_dir = tempfile.mkdtemp(prefix="autograder-reference-")
    for name, rel in spec.data_files.items():
        shutil.copyfile(os.path.join(specmod.repo_root(), rel), os.path.join(data_dir, name))
    docs = {True: {}, False: {}}
    try:
        os.chdir(data_dir)
        for q in spec.questions:
            cases = list(q.public_cases())
            if q.hidden_cases is not None:
                cases += list(q.hidden_cases(rng))
            for case in cases:
                encoded = specmod.encode_call(case.call)
                stand_ins, log = q.stand_ins(case.stand_in) if case.stand_in is not None else ({}, [])
                remote = (lambda name, args, kwargs: stand_ins[name](*args, **kwargs)) if stand_ins else None
                reply = worker.perform_call(ns, dict(encoded, remote=sorted(stand_ins)), timeout=None,
                                            table=worker.probe_table(assignment), remote=remote)
                if not reply["ok"]:
                    raise RuntimeError(f"the solution failed on {assignment}.{q.name} / {case.name}: {reply['error']}")
                value = wire.decode(reply["value"])
                expected = q.expected(case, value, ns) if q.expected else value
                doc = {"name": case.name, "public": case.public, "call": encoded, "expected": wire.encode(expected)}
                if case.aspect is not None:
                    doc["aspect"] = case.aspect   # what the comparison checks: case["aspect"] at grading time
                if case.stand_in is not None:
                    doc["stand_in"] = case.stand_in
                    verdict = q.compare(value, expected, dict(doc, expected=expected, log=log))
                    if not verdict.ok:
                        raise RuntimeError(f"the solution fails {assignment}.{q.name} / {case.name}: {verdict}")
                docs[case.public].setdefault(q.name, []).append(doc)
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(data_dir, ignore_errors=True)
    prov = provenance(assignment, device, seed_shown, {**spec.provenance, **extra})
    public = {"provenance": prov, "questions": docs[True]}
    hidden = {"provenance": prov, "questions": docs[False]}
    if write:
        os.makedirs(ref_dir(assignment), exist_ok=True)
        _write_json(ref_path(assignment, "public"), public)
        _write_json(ref_path(assignment, "hidden"), hidden)
    return public, hidden


def _use_sandbox_env(spec, device):
    """Build with the Keras backend and thread settings the grader's sandboxes use (the reference
    and a correct student's training are then the same computation). On --device gpu, JAX may use
    the GPU; on the CPU it is single-threaded as in the sandbox."""
    from . import sandbox
    from .config import GraderConfig
    env, note = specmod.sandbox_env(spec, GraderConfig.from_env().keras_backend)
    if note:
        print(note, file=sys.stderr)
    wanted = env.get("KERAS_BACKEND")
    if "keras" in sys.modules:
        have = sys.modules["keras"].backend.backend()
        if wanted and have != wanted:
            raise RuntimeError(f"Keras was imported with the {have} backend before the reference build, "
                               f"which needs {wanted}; run `autograder reference` in a fresh process")
        return
    os.environ.update(env)
    if device != "gpu":
        for key, value in sandbox.JAX_CPU_ENV.items():
            os.environ.setdefault(key, value)


def _backend_details(keras):
    out = {}
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf
            out["tensorflow"] = tf.__version__
            gpus = tf.config.list_physical_devices("GPU")
            out["device_name"] = gpus[0].name if gpus else "CPU"
        elif backend == "jax":
            import jax
            out["jax"] = jax.__version__
            out["device_name"] = str(jax.devices()[0])
            out["tf32"] = str(jax.config.jax_default_matmul_precision)
            out["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    except Exception as exc:  # noqa: BLE001 - provenance is best effort
        out["device_error"] = str(exc)
    return out


def _write_json(path, doc):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def load(assignment, include_hidden):
    """{question: [case dict with decoded 'expected']}, and the provenance. Parsed once per process
    and file version (a class grades hundreds of submissions against the same files); callers
    must treat the result as read-only."""
    paths = []
    for kind in ["public"] + (["hidden"] if include_hidden else []):
        path = ref_path(assignment, kind)
        if not os.path.exists(path):
            if kind == "hidden":
                raise FileNotFoundError(f"hidden references for {assignment} are missing: run `autograder reference {assignment}`")
            raise FileNotFoundError(f"references for {assignment} are missing: {path}")
        stat = os.stat(path)
        paths.append((path, stat.st_mtime_ns, stat.st_size))
    return _load(tuple(paths))


@functools.lru_cache(maxsize=16)
def _load(paths):
    out, prov = {}, None
    for path, _mtime, _size in paths:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        prov = prov or doc.get("provenance")
        for qname, cases in doc["questions"].items():
            for c in cases:
                c = dict(c)
                c["expected"] = wire.decode(c["expected"])
                out.setdefault(qname, []).append(c)
    return out, prov


def main_reference(assignment, device="cpu", seed=None):
    public, hidden = build(assignment, device=device, seed=seed)
    n_pub = sum(len(v) for v in public["questions"].values())
    n_hid = sum(len(v) for v in hidden["questions"].values())
    print(f"{assignment}: {n_pub} public and {n_hid} hidden cases written to {ref_dir(assignment)} ({device})", file=sys.stderr)
    return 0
