"""Walls around student code: how a warm sandbox (zygote) process is started.

With bubblewrap: a new mount, PID, network, IPC and UTS namespace; the system, the Python
environment, the staged child package and the data files bound read-only; `/` remounted
read-only; size-limited private tmpfs for /tmp, the home folder and /dev/shm (the only writable
places, emptied after every child); a seccomp filter (seccomp.py); and no privilege at all: when
the grader is root, no user namespace is made (a user namespace's root maps to the real root) and
the zygote drops to an unprivileged uid before it runs anything else, so every process in the
sandbox is that uid outside too, without capabilities, with no_new_privs. When the grader is not
root, bubblewrap's own unprivileged user namespace is used, capabilities dropped.

Without bubblewrap: a plain child process with the same limits; its children (which run student
code) drop to an unprivileged uid of their own where the grader is root and that user can reach
the Python installation; every result says which isolation applied.

The child package is staged afresh for every zygote, in a folder that only root (or the grader's
user) can write, so one student's sandbox can never change the harness another student's runs.
"""
import hashlib
import importlib.util
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))       # autograder/
_CHILD_SRC = os.path.join(_PKG, "child")
_CHILD_MODULES = ("__init__.py", "wire.py", "kit.py", "worker.py", "zygote.py")
STAGE_PREFIX = "autograder-stage-"
STAGE_MOUNT = "/opt/agstage"
HOME = "/home/student"
XLA_CACHE_MOUNT = "/opt/xla-cache"
# One thread for every numerical library: the grader runs one sandbox per core. XLA's CPU flags
# make JAX (Keras's JAX backend) single-threaded too, and the same in the reference build.
JAX_CPU_ENV = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
               "JAX_PLATFORMS": "cpu"}

_probe = {}
_probe_lock = threading.Lock()


def bwrap_status():
    """(usable, why, path): whether bubblewrap can make a sandbox here (probed once per process)."""
    with _probe_lock:
        if "ok" not in _probe:
            path = shutil.which("bwrap")
            ok, why = False, "bubblewrap (bwrap) is not installed"
            if path:
                try:
                    proc = subprocess.run([path] + _namespace_flags() + ["--ro-bind", "/", "/", "true"],
                                          capture_output=True, timeout=20)
                    ok = proc.returncode == 0
                    why = "" if ok else ("bwrap cannot create a sandbox here: "
                                         + proc.stderr.decode(errors="replace").strip()[:200])
                except (OSError, subprocess.TimeoutExpired) as exc:
                    why = f"bwrap cannot run here: {exc}"
            _probe.update(ok=ok, why=why, path=path)
        return _probe["ok"], _probe["why"], _probe["path"]


def uses_bwrap(config):
    if config.isolation == "process":
        return False
    ok, _, _ = bwrap_status()
    return ok


def isolation_note(sandboxed, dropped=None, lang="en"):
    """One line for the run's output and each result's extra_data, in the run's language."""
    if lang == "ko":
        from .. import i18n
        if sandboxed:
            return i18n.t("sandbox_on", "ko")
        ok, why, _ = bwrap_status()
        return i18n.t("sandbox_off", "ko", reason="disabled by the configuration" if ok else (why or "not available"))
    if sandboxed:
        who = "an unprivileged user" if os.geteuid() == 0 else "the grader's own user, no capabilities"
        return (f"bubblewrap sandbox: no network, read-only system, private writable folders emptied per question, "
                f"own PID namespace, seccomp filter, student code ran as {who}")
    ok, why, _ = bwrap_status()
    why = "disabled by the configuration" if ok else (why or "not available")
    user = {True: "as an unprivileged user",
            False: "as the grader's own user" + (" (no unprivileged user could reach the Python installation)"
                                                  if os.geteuid() == 0 else "")}.get(dropped, "")
    return (f"WARNING: no bubblewrap sandbox ({why}); student code ran in a plain child process {user} with "
            f"resource limits only, without filesystem or network isolation").replace("  ", " ")


def _namespace_flags():
    """Namespaces for the sandbox: as root no user namespace (its root would be the real root)."""
    flags = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        flags = ["--unshare-user"] + flags
    return flags


# ---- the staged child package -----------------------------------------------------------------------
def stage_child_package(assignments=()):
    """A fresh read-only copy of autograder/child as `agchild`, plus each assignment's probes.py as
    agchild/probes_<name>.py. Returns the folder (removed by remove_stage)."""
    stage = tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-")
    pkg = os.path.join(stage, "agchild")
    os.mkdir(pkg)
    for name in _CHILD_MODULES:
        shutil.copyfile(os.path.join(_CHILD_SRC, name), os.path.join(pkg, name))
    for assignment in assignments:
        probes = os.path.join(_PKG, "assignments", assignment, "probes.py")
        if os.path.exists(probes):
            shutil.copyfile(probes, os.path.join(pkg, f"probes_{assignment}.py"))
    for root, _dirs, files in os.walk(stage):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return stage


def user_cache_dir(*parts):
    """This user's autograder cache folder ($XDG_CACHE_HOME or ~/.cache, then autograder/), joined with parts."""
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "autograder", *parts)


def harness_files(assignments=()):
    """The files stage_child_package copies (what a zygote runs besides student code)."""
    files = [os.path.join(_CHILD_SRC, name) for name in _CHILD_MODULES]
    for assignment in assignments:
        probes = os.path.join(_PKG, "assignments", assignment, "probes.py")
        if os.path.exists(probes):
            files.append(probes)
    return files


def remove_stage(stage):
    if stage and os.path.basename(stage).startswith(STAGE_PREFIX):
        shutil.rmtree(stage, ignore_errors=True)


def remove_stale_stages():
    """Stage folders of grading processes that are gone (a killed run): removed. Returns how many."""
    removed = 0
    tmp = tempfile.gettempdir()
    pattern = re.compile(r"^autograder-(?:stage|zygote|run|xla|xla-warmup|mpl)-(\d+)-")
    try:
        names = os.listdir(tmp)
    except OSError:
        return 0
    for name in names:
        m = pattern.match(name)
        old_design = name.startswith("autograder-child-")  # the stage of earlier versions: no owner left
        if not old_design and (not m or _alive(int(m.group(1)))):
            continue
        shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)
        removed += 1
    return removed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


# ---- what the sandbox sees ------------------------------------------------------------------------
_ROOT_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd",
              "/etc/group", "/etc/hosts", "/etc/ssl", "/etc/alternatives", "/etc/fonts", "/etc/matplotlibrc")


def python_roots():
    roots = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), os.path.realpath(sys.exec_prefix)}
    exe = os.path.realpath(sys.executable)
    roots.add(os.path.dirname(os.path.dirname(exe)))
    return sorted(r for r in roots if r and r != "/" and not any(r.startswith(d + "/") or r == d for d in _ROOT_DIRS))


def _masks():
    """Folders inside the bound Python environment that student code must not read (this package,
    when it is installed there)."""
    pkg = os.path.realpath(_PKG)
    return [pkg for root in python_roots() if pkg.startswith(root + "/")]


def child_env(sandboxed, workdir, extra_env=None, xla_cache=None):
    env = {"HOME": HOME if sandboxed else workdir, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
           "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "LANG": "C.UTF-8",
           "MPLCONFIGDIR": "/tmp" if sandboxed else workdir, "KERAS_HOME": "/tmp" if sandboxed else workdir,
           "PATH": "/usr/bin:/bin", **JAX_CPU_ENV}
    env.update(extra_env or {})
    if xla_cache:
        env.update({"JAX_COMPILATION_CACHE_DIR": XLA_CACHE_MOUNT if sandboxed else xla_cache[0],
                    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"})
    return env


_ZYGOTE_MAIN = ("import sys; sys.path.insert(0, {stage!r}); {drop}"
                "from agchild.zygote import zygote_main; zygote_main({fd})")
_DROP = ("import os; os.setgroups([]); os.setresgid({uid}, {uid}, {uid}); os.setresuid({uid}, {uid}, {uid}); "
         "import ctypes; ctypes.CDLL(None).prctl(38, 1, 0, 0, 0); ")


def zygote_command(stage, workdir, data_files, ctl_fd, seccomp_fd, limits, sandboxed, uid, extra_env=None,
                   xla_cache=None):
    """(argv, env, cwd) of a zygote. xla_cache: (host folder, writable) for JAX's compilation cache,
    bound read-only into student sandboxes and writable only into the harness's warm-up sandbox."""
    env = child_env(sandboxed, workdir, extra_env, xla_cache)
    if not sandboxed:
        code = _ZYGOTE_MAIN.format(stage=stage, drop="", fd=ctl_fd)
        return [sys.executable, "-I", "-u", "-c", code], env, workdir
    drop = _DROP.format(uid=int(uid)) if os.geteuid() == 0 else ""
    code = _ZYGOTE_MAIN.format(stage=STAGE_MOUNT, drop=drop, fd=ctl_fd)
    size = str(limits.file_mb * 1024 * 1024)
    _, _, bwrap = bwrap_status()
    cmd = [bwrap] + _namespace_flags() + ["--clearenv"]
    for d in _ROOT_DIRS:
        if os.path.islink(d):
            cmd += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            cmd += ["--ro-bind", d, d]
    for f in _ETC_FILES:
        if os.path.exists(f):
            cmd += ["--ro-bind", f, f]
    # the private /tmp and home first: a Python environment that lives under /tmp (a CI checkout)
    # is then bound on top of the fresh /tmp, not hidden by it
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
            "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
            "--perms", "1777", "--size", size, "--tmpfs", HOME]
    made = {"/", "/tmp", HOME}
    for root in python_roots():
        # the folders above it, searchable by the student user (bwrap would copy a private /root's mode)
        parts = root.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/" + "/".join(parts[:i])
            if folder not in made:
                cmd += ["--perms", "0755", "--dir", folder]
                made.add(folder)
        cmd += ["--ro-bind", root, root]
    for m in _masks():
        cmd += ["--tmpfs", m, "--remount-ro", m]
    cmd += ["--perms", "0755", "--dir", "/opt", "--ro-bind", stage, STAGE_MOUNT]
    for name, path in data_files.items():
        cmd += ["--ro-bind", path, f"{HOME}/{name}"]
    for path in matplotlib_font_cache():  # MPLCONFIGDIR is /tmp
        cmd += ["--ro-bind", path, f"/tmp/{os.path.basename(path)}"]
    if xla_cache:
        cmd += ["--bind" if xla_cache[1] else "--ro-bind", xla_cache[0], XLA_CACHE_MOUNT]
    cmd += ["--remount-ro", "/", "--chdir", HOME]
    if seccomp_fd is not None:
        cmd += ["--seccomp", str(seccomp_fd)]
    if os.geteuid() == 0:  # the zygote needs these two to become the student user, then has none
        cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--cap-drop", "ALL"]
    for k, v in env.items():
        cmd += ["--setenv", k, v]
    cmd += [sys.executable, "-I", "-u", "-c", code]
    return cmd, {}, None


# ---- the unprivileged user without bubblewrap ----------------------------------------------------------
_reach = {}


def reachable_by(uid, paths):
    """Whether `uid` can read every path (a forked probe becomes that user and looks). Cached."""
    key = (uid, tuple(paths))
    if key not in _reach:
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                ok = all(os.access(p, os.R_OK | (os.X_OK if os.path.isdir(p) else 0)) for p in paths)
                os._exit(0 if ok else 1)
            except BaseException:  # noqa: BLE001
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        _reach[key] = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return _reach[key]


_uid_lock = threading.Lock()
_uid_next = [0]


def fallback_uid():
    """A uid of its own for each warm sandbox without bubblewrap (61000, 61001, ...)."""
    with _uid_lock:
        uid = 61000 + _uid_next[0] % 4000
        _uid_next[0] += 1
        return uid


# ---- processes ------------------------------------------------------------------------------------------
class PidsCgroup:
    """A cgroup (v1 or v2 pids controller) capping the number of tasks, where we may create one."""

    def __init__(self, limit):
        self.path = None
        for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
            if not os.path.exists(os.path.join(base, "cgroup.procs")) or not os.access(base, os.W_OK):
                continue
            path = os.path.join(base, f"autograder-{os.getpid()}-{id(self)}")
            try:
                os.mkdir(path)
                with open(os.path.join(path, "pids.max"), "w") as fh:
                    fh.write(str(limit))
                self.path = path
                break
            except OSError:
                try:
                    os.rmdir(path)
                except OSError:
                    pass

    def procs_file(self):
        return os.path.join(self.path, "cgroup.procs") if self.path else None

    def kill_all(self, patience=15.0):
        """SIGKILL every task in the cgroup until it is empty (a capped fork bomb can take seconds to
        die on a loaded machine), then remove it."""
        if not self.path:
            return
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                with open(os.path.join(self.path, "cgroup.procs")) as fh:
                    pids = [int(p) for p in fh.read().split()]
            except OSError:
                return
            if not pids:
                try:
                    os.rmdir(self.path)
                    return
                except OSError:
                    pass  # tasks still leaving: look again
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)


def preexec(limits, procs_file, nproc=True):
    def apply():
        os.setsid()
        if procs_file:
            try:
                with open(procs_file, "w") as fh:
                    fh.write(str(os.getpid()))
            except OSError:
                pass
        mem = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        fsize = limits.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc and os.getuid() != 0 and not procs_file:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes + 512, limits.processes + 512))
        die_with_parent()
    return apply


def die_with_parent():
    """This process gets SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG), where the
    system has it: nothing the grader starts outlives the run."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def kill_tree(proc, cgroup):
    """SIGKILL a sandbox: its process group, the process, and everything left in its cgroup."""
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            kill()
        except OSError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if cgroup is not None:
        cgroup.kill_all()


# ---- matplotlib's font list -----------------------------------------------------------------------------
def matplotlib_font_cache():
    """Paths of matplotlib's font list for this environment, built once per machine and matplotlib
    version by a child that runs only matplotlib (no student code) into the user's cache folder.
    Sandboxes get the files bound read-only into their config folder: without them every child
    would scan the system's fonts again on `import matplotlib.pyplot` (0.2-0.3 s). [] when it
    cannot be built; matplotlib then builds its own, as before."""
    with _probe_lock:
        if "mpl_fonts" in _probe:
            return _probe["mpl_fonts"]
    files = []
    try:
        found = importlib.util.find_spec("matplotlib")
        if found is None or not found.origin:
            raise ImportError("matplotlib is not installed")
        tag = hashlib.sha256(f"{found.origin}:{os.stat(found.origin).st_mtime_ns}:{sys.version}".encode()).hexdigest()[:16]
        base = user_cache_dir(f"matplotlib-fonts-{tag}")
        if not os.path.isdir(base) or not os.listdir(base):
            build = tempfile.mkdtemp(prefix=f"autograder-mpl-{os.getpid()}-")
            try:
                subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"], timeout=120,
                               env={"MPLCONFIGDIR": build, "PATH": "/usr/bin:/bin", "HOME": build},
                               capture_output=True, check=True)
                os.makedirs(base, exist_ok=True)
                for name in os.listdir(build):
                    if name.startswith("fontlist") and name.endswith(".json"):
                        os.replace(os.path.join(build, name), os.path.join(base, name))
            finally:
                shutil.rmtree(build, ignore_errors=True)
        files = [os.path.join(base, n) for n in sorted(os.listdir(base)) if n.startswith("fontlist")]
    except (OSError, ValueError, subprocess.SubprocessError, ImportError):
        files = []
    with _probe_lock:
        _probe["mpl_fonts"] = files
    return files

