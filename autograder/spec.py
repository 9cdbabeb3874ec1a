"""The vocabulary of the question specs (autograder/assignments/NN_name/spec.py).

A spec is declarative: for each question, which student functions it calls, with which cases
(public ones whose expected values students may see, hidden ones drawn at reference time from a
seed), how the outcome is compared, and how many points it is worth. Expected values are never
written in a spec: `autograder reference` computes them by running solutions/ on the same cases.
"""
import ast
import hashlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field

from .child import wire

ASSIGNMENTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assignments")
_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")


def discover(root=None):
    """The assignments the package holds: every folder `NN_name/` of autograder/assignments/ with a
    spec.py (sorted). Nothing else in the package names an assignment."""
    root = root or ASSIGNMENTS_DIR
    try:
        names = os.listdir(root)
    except OSError:
        return ()
    return tuple(sorted(n for n in names if _NAME.match(n) and os.path.isfile(os.path.join(root, n, "spec.py"))))


def assignment_dir(assignment):
    """The folder of one assignment (its spec, child-side probes, references)."""
    return os.path.join(ASSIGNMENTS_DIR, assignment)


ASSIGNMENTS = discover()


def sibling(spec_file, name):
    """The module `name` (the file `name`.py) of the assignment folder that holds `spec_file`: how an
    assignment's spec.py, and the modules it splits off (checks.py, ...), import one another. The
    folder is no importable package (its name starts with digits) and spec.py is loaded from its
    file (load_spec, the student bundle, the Gradescope zip, tests), so the module is loaded from the
    file beside it, once per process and path: the bundle's copy is never the repository's."""
    path = os.path.join(os.path.dirname(os.path.abspath(spec_file)), f"{name}.py")
    if not os.path.isfile(path):
        raise ImportError(f"{name}.py is not beside {spec_file}")
    digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return _module_from_file(f"autograder_assignment_{digest}.{os.path.basename(os.path.dirname(path))}.{name}", path)


def _module_from_file(key, path):
    """The module of file `path`, executed once per process under the name `key`."""
    module = sys.modules.get(key)
    if module is None:
        module_spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[key] = module
        try:
            module_spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[key]
            raise
    return module


# ---- argument specs -----------------------------------------------------------------------
# What call() and probe() take besides plain values (which they wrap in plain() themselves).
def plain(value):
    """A plain value, sent as a copy; the grader checks the original is unchanged afterwards."""
    return {"value": value}


def student_fn(name):
    """The student's own function `name`, passed as an argument."""
    return {"fn": name}


def builtin(name, /, **params):
    """A callable the harness builds inside the sandbox from `params` (the assignment's
    probes.BUILTINS[name])."""
    return {"builtin": name, "params": params}


def closure(name, /, over, **params):
    """A zero-argument closure over positional argument number `over` of the same call, built in
    the sandbox from `params` (the assignment's probes.CLOSURES[name])."""
    return {"closure": name, "over": over, "params": params}


def File(name, text):
    """A file written into the sandbox's working directory; the function receives its path."""
    return {"file": {"name": name, "text": text}}


def _wrap(arg):
    if isinstance(arg, dict) and len(arg) == 1 and next(iter(arg)) in ("value", "fn", "builtin", "closure", "file", "path"):
        return arg
    if isinstance(arg, dict) and set(arg) >= {"closure", "over"}:
        return arg
    if isinstance(arg, dict) and "builtin" in arg and set(arg) <= {"builtin", "params"}:
        return arg
    return plain(arg)


def call(fn, *args, **kwargs):
    return {"fn": fn, "args": [_wrap(a) for a in args], "kwargs": {k: _wrap(v) for k, v in kwargs.items()}}


def probe(name, *args, **params):
    return {"probe": name, "args": [_wrap(a) for a in args], "params": params}


def encode_call(c, inject=()):
    """The call as plain data for the pipe."""
    def arg(spec):
        if "value" in spec:
            return {"value": wire.encode(spec["value"])}
        if "builtin" in spec or "closure" in spec:
            out = dict(spec)
            out["params"] = {k: wire.encode(v) for k, v in spec.get("params", {}).items()}
            return out
        return spec
    out = {"args": [arg(a) for a in c.get("args", [])],
           "kwargs": {k: arg(v) for k, v in c.get("kwargs", {}).items()},
           "inject": list(inject)}
    if c.get("probe"):
        out["probe"] = c["probe"]
        out["params"] = {k: wire.encode(v) for k, v in c.get("params", {}).items()}
    else:
        out["fn"] = c["fn"]
    return out


# ---- cases and questions --------------------------------------------------------------------
@dataclass
class Case:
    """One call of a question.

    name: the label students see (a label only: nothing grades by it). public: whether its expected
    value is shipped. aspect: plain data saying what the question's comparison checks on this case
    (e.g. "layers" of the same model that other cases check for "activations"), where the
    question's cases are not all compared alike; it is stored with the case in the references and
    handed to the comparison as case["aspect"] (and to the question's `expected` hook as
    case.aspect). stand_in: plain data from which the question's `stand_ins` builds, in the
    grading process, the functions that answer in place of the student's (or the reference's) for
    this call only (e.g. gates with tables the grader chose); what they were asked is handed to
    the comparison as case["log"], so the grader, not the child, judges how the answer was built."""
    name: str
    call: dict
    public: bool = True
    expected: object = None
    stand_in: object = None
    aspect: object = None


@dataclass(kw_only=True)
class Question:
    """One graded question; every argument by keyword. compare(actual, expected, case) -> Verdict
    (case: the stored case, a dict: "name", "public", "call", "expected", "aspect", "log").
    public_cases() and hidden_cases(rng) make its cases; hidden_cases is defined in the
    assignment's spec.py itself and named *_hidden (release.strip_hidden_generators)."""
    name: str
    points: float
    functions: list
    compare: object
    public_cases: object                 # () -> [Case]
    hidden_cases: object = None          # (rng) -> [Case]
    inject: tuple = ()                   # reference helpers put in place during the call
    timeout: float = None
    all_or_nothing: bool = False
    no_warnings: bool = False
    check_args: bool = True
    static: object = None                # (cells) -> None or message: a structural rule on the source
    expected: object = None              # (case, solution_value, solution_ns) -> expected, when not the value
    needs_keras: bool = False
    hint: tuple = ("", "")               # (ko, en): helps without giving the answer away
    stand_ins: object = None             # (case.stand_in) -> ({name: function}, log list): grader-side stand-ins
    title: tuple = ("", "")


@dataclass
class AssignmentSpec:
    name: str
    questions: list
    data_files: dict = field(default_factory=dict)   # name in the sandbox -> path relative to the repo
    preload: list = field(default_factory=lambda: ["numpy"])  # what the setup cell imports (plots import pyplot in demo cells)
    # Heavy modules preloaded only for a submission whose cells import them (a warm sandbox of its own
    # kind): e.g. TensorFlow, which the lecture's code imports and the Keras-on-JAX sandbox does not need.
    preload_if_imported: list = field(default_factory=list)
    limits: dict = field(default_factory=dict)
    hidden_seed: int = 0
    # Environment of the assignment's sandboxes. KERAS_BACKEND here is a preference: see sandbox_env.
    env: dict = field(default_factory=dict)
    # Probe calls (no student code) that a grading run makes once, in a sandbox of its own, to fill
    # JAX's compilation cache that every student sandbox then reads (sandbox.CompileCache).
    warmup: list = field(default_factory=list)
    # Plain facts the reference's provenance records beside its own (e.g. a threshold's measured spread).
    provenance: dict = field(default_factory=dict)

    def question(self, name):
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    @property
    def max_score(self):
        return sum(q.points for q in self.questions)


def sandbox_env(spec, override=None):
    """(environment, note) for the spec's sandboxes and its reference build. A Keras backend the
    spec prefers is used when its library is installed (JAX: one jitted training step costs a
    fraction of TensorFlow's graph dispatch); otherwise Keras's default, TensorFlow, with a note.
    `override` (GraderConfig.keras_backend, env AUTOGRADER_KERAS_BACKEND) replaces the preference
    (to measure one backend against the other)."""
    env = dict(spec.env)
    if not env.get("KERAS_BACKEND"):
        return env, None
    wanted = override or env["KERAS_BACKEND"]
    module = {"jax": "jaxlib", "tensorflow": "tensorflow", "torch": "torch"}.get(wanted, wanted)
    if importlib.util.find_spec(module) is None:
        env["KERAS_BACKEND"] = "tensorflow"
        return env, f"Keras backend {wanted} is not installed here; the Keras questions ran on tensorflow"
    env["KERAS_BACKEND"] = wanted
    return env, None


_cache = {}


def load_spec(assignment):
    path = os.path.join(assignment_dir(str(assignment)), "spec.py")
    if not _NAME.match(str(assignment)) or not os.path.isfile(path):
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    if assignment not in _cache:
        _cache[assignment] = _module_from_file(f"autograder.assignments.a{assignment}.spec", path).SPEC
    return _cache[assignment]


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


BUNDLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bundle")


def resource_path(rel):
    """A file of the repository (`assignments/...`, `data/...`). In the student bundle, where the
    package is installed without the repository, the copy shipped in `autograder/_bundle/`."""
    path = os.path.join(repo_root(), rel)
    if os.path.exists(path):
        return path
    shipped = os.path.join(BUNDLE_DIR, rel)
    return shipped if os.path.exists(shipped) else path


def imported_modules(cells, candidates):
    """Which of `candidates` (top-level module names) the cells import, in the candidates' order."""
    if not candidates:
        return []
    wanted, found = set(candidates), set()
    for cell in cells:
        source = cell.get("source", "") if isinstance(cell, dict) else str(cell)
        try:
            nodes = ast.walk(ast.parse(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            found |= {m for m in wanted if re.search(rf"^\s*(?:import|from)\s+{re.escape(m)}\b", source, re.M)}
            continue
        for node in nodes:
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names} & wanted
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found |= {node.module.split(".")[0]} & wanted
    return [m for m in candidates if m in found]
