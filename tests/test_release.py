"""The student bundle (`autograder release`): no solution code and no hidden case anywhere in it,
and `autograder check` works from the bundle alone once installed into a fresh virtual environment."""
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import pytest

from autograder import release
from autograder import spec as specmod
from autograder.authoring import solution_bodies, weave
from autograder.submission import import_nbformat

nbformat = import_nbformat()
ROOT = specmod.repo_root()


def _solution(assignment):
    with open(os.path.join(ROOT, "solutions", f"{assignment}.py"), encoding="utf-8") as fh:
        return fh.read()


def _bundle_texts(out):
    texts = {}
    for folder, _, files in os.walk(out):
        for name in files:
            path = os.path.join(folder, name)
            try:
                with open(path, encoding="utf-8") as fh:
                    texts[os.path.relpath(path, out)] = fh.read()
            except UnicodeDecodeError:
                texts[os.path.relpath(path, out)] = ""
    return texts


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("bundle") / "homework")
    assert release.build_bundle(out) == 0
    return out


# Lines the harness itself must ship: probes.py's counting perceptron (the gate probe, run in the
# student's process) uses the step rule that the notebook states in its docstring ("1 if z > 0 else 0").
ALLOWED = {"return 1 if z > 0 else 0",
           "w = np.array(w0, dtype=np.float64)"}   # a plain conversion, also in probes.probe_iterate


def _distinctive_lines(assignment, released_text):
    """Lines of the solution bodies that the released material does not already contain."""
    lines = set()
    for body in solution_bodies(_solution(assignment)).values():
        for line in body.splitlines():
            line = line.strip()
            if len(line) >= 16 and not line.startswith("#") and line not in released_text and line not in ALLOWED:
                lines.add(line)
    return lines


def test_bundle_layout(bundle):
    for a in specmod.ASSIGNMENTS:
        assert os.path.exists(os.path.join(bundle, "assignments", f"{a}.ipynb"))
        assert os.path.exists(os.path.join(bundle, "autograder", "assignments", a, "references", "public.json"))
    for name in ("README.md", "pyproject.toml", "data/dataset2.csv", "autograder/cli.py", "autograder/notebook.py"):
        assert os.path.exists(os.path.join(bundle, name)), name
    readme = open(os.path.join(bundle, "README.md"), encoding="utf-8").read()
    assert "pip install" in readme and "autograder check 03_backprop.ipynb" in readme and "설치" in readme


def test_bundle_has_no_solution_and_no_hidden_case(bundle):
    texts = _bundle_texts(bundle)
    assert not [p for p in texts if p.split(os.sep)[0] == "solutions" or f"{os.sep}solutions{os.sep}" in p]
    assert not [p for p in texts if os.path.basename(p) in ("hidden.json", "hidden.py")]
    assert not [p for p in texts if os.path.basename(p) in release.INSTRUCTOR_ONLY]
    for path, text in texts.items():
        assert "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text, path
    assert release.check_bundle(bundle) == []


# (specs/03_backprop.py no longer carries formulas: its case generators take forward/backward from
# solutions/ at reference time only, so it is not listed here.)
_KNOWN_LEAKS = {}  # probes.py builds the figure's network from the spec's plain numbers, not from code


@pytest.mark.parametrize("assignment", [
    pytest.param(a, marks=pytest.mark.xfail(strict=True, reason=_KNOWN_LEAKS[a])) if a in _KNOWN_LEAKS else a
    for a in specmod.ASSIGNMENTS])
def test_bundle_has_no_solution_lines(bundle, assignment):
    released = "\n".join(open(os.path.join(ROOT, "assignments", f"{a}.ipynb"), encoding="utf-8").read()
                         for a in specmod.ASSIGNMENTS)
    everything = "\n".join(_bundle_texts(bundle).values())
    leaked = sorted(line for line in _distinctive_lines(assignment, released) if line in everything)
    assert not leaked, leaked[:8]


def test_build_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("keep me")
    assert release.build_bundle(str(tmp_path)) == 2
    assert (tmp_path / "x").read_text() == "keep me"


@pytest.mark.slow
def test_check_works_from_the_installed_bundle(bundle, tmp_path):
    # not under /tmp: the sandbox mounts a fresh /tmp over it, which would hide the interpreter
    home = os.path.join(os.path.expanduser("~"), ".cache")
    os.makedirs(home, exist_ok=True)
    keep = tempfile.mkdtemp(prefix="autograder-bundle-venv-", dir=home)
    try:
        _check_from_bundle(bundle, tmp_path, pathlib.Path(keep) / "venv")
    finally:
        shutil.rmtree(keep, ignore_errors=True)


def _check_from_bundle(bundle, tmp_path, venv):
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    # the base interpreter lacks some dependencies (nbformat ...): make this environment's
    # third-party packages visible as a plain path (no .pth of it runs, so the repository's
    # editable autograder is NOT importable there)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, "zz_test_deps.pth"), "w") as fh:
        fh.write(sysconfig.get_paths()["purelib"] + "\n")
    pip = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--no-index", bundle], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr

    work = tmp_path / "student"
    work.mkdir()
    nb = nbformat.read(os.path.join(bundle, "assignments", "01_perceptron.ipynb"), as_version=4)
    nbformat.write(weave(nb, _solution("01_perceptron"), markers=False), str(work / "01_perceptron.ipynb"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")
    where = subprocess.run([str(py), "-c", "import autograder; print(autograder.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(venv)), where            # the bundle's copy, not the repository's
    proc = subprocess.run([str(venv / "bin" / "autograder"), "check", "01_perceptron.ipynb"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    full = f'{specmod.load_spec("01_perceptron").max_score:g}'   # the autograded part of the 100
    assert first.strip().endswith(f"{full} / {full}"), proc.stdout
    # and the untouched release scores 0 there
    nbformat.write(nb, str(work / "untouched.ipynb"))
    proc = subprocess.run([str(venv / "bin" / "autograder"), "check", "untouched.ipynb"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.splitlines()[0].strip().endswith(f" 0 / {full}"), proc.stdout


@pytest.mark.slow
def test_the_bundles_notebooks_run_from_the_bundle_with_correct_work(bundle, tmp_path):
    """Restart & Run All of every bundle notebook, filled with correct work, from the bundle's own
    assignments/ folder, with the bundle's own `autograder` (PYTHONPATH) and its data/ (nothing
    copied beside the notebooks): no cell fails and every check cell shows its cases passed."""
    from nbclient import NotebookClient
    copy = tmp_path / "homework"
    shutil.copytree(bundle, copy)
    env = {"PYTHONPATH": str(copy), "MPLBACKEND": "Agg", "NBGRADER_EXECUTION": "", "AUTOGRADER_CHECK_RAISE": ""}
    from grading_helpers import environment
    with environment(**env):
        for assignment in specmod.ASSIGNMENTS:
            path = copy / "assignments" / f"{assignment}.ipynb"
            if not path.exists():
                continue
            assert not (copy / "assignments" / "dataset2.csv").exists()
            nb = weave(nbformat.read(str(path), as_version=4), _solution(assignment), markers=False)
            nb.cells.append(nbformat.v4.new_code_cell("import autograder; print(autograder.__file__)"))
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(copy / "assignments")}}).execute()
            where = nb.cells[-1].outputs[0]["text"].strip()
            assert where.startswith(str(copy)), where           # the bundle's package, not the repository's
            checks = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
            assert checks
            for cell in checks:
                shown = "".join(str(v) for o in cell.outputs for v in o.get("data", {}).values())
                assert "✓" in shown and "✗" not in shown, (assignment, shown[:1500])


def test_bundle_specs_cannot_draw_hidden_cases(bundle):
    """Every spec in the bundle loads (the student's check needs its public cases) and every hidden
    generator in it raises: the hidden inputs cannot be regenerated from the bundle."""
    import importlib.util
    import numpy as np
    for a in specmod.ASSIGNMENTS:
        path = os.path.join(bundle, "autograder", "assignments", a, "spec.py")
        module_spec = importlib.util.spec_from_file_location(f"bundle_spec_{a}", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        generators = [q.hidden_cases for q in module.SPEC.questions if q.hidden_cases]
        assert generators, a
        for generator in generators:
            with pytest.raises(RuntimeError, match="not shipped"):
                generator(np.random.default_rng(0))
        assert not os.path.exists(os.path.join(bundle, "autograder", "assignments", a, "references", "secret.txt"))
        # and in every module of the folder (a generator moved out of spec.py is stripped as well)
        import ast
        folder = os.path.join(bundle, "autograder", "assignments", a)
        for name in [n for n in os.listdir(folder) if n.endswith(".py")]:
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and node.name.endswith("_hidden") and \
                        "rng" in [arg.arg for arg in node.args.args]:
                    body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
                    assert len(body) == 1 and isinstance(body[0], ast.Raise), (a, name, node.name)
