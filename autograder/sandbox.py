"""Running untrusted code: one sandboxed child process per submission, plain data back.

The child is `python -I -m agchild.worker`, where `agchild` is a copy of worker.py, probes.py
and wire.py staged in a private directory, so that the rest of the autograder (its specs, its
stored references) is not even on the child's filesystem. With bubblewrap the child sees a
read-only system and Python environment, a private /tmp and home, the data files it needs, no
network, and its own PID namespace (when it ends, every process it started is gone). Without
bubblewrap it is a plain child process with the same resource limits, and every result says so.

Faults are contained per call: a crash, an exit, a time-out or garbage on the pipe ends the child;
the session records the fault for that call and the next call starts a fresh child, which runs
the submission's cells again (skipping any cell that timed out).
"""
import atexit
import os
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from . import wire

_HERE = os.path.dirname(os.path.abspath(__file__))
_CHILD_MODULES = ("wire.py", "probes.py", "worker.py")


@dataclass
class Limits:
    memory_mb: int = 3072          # address space of the child (RLIMIT_AS)
    cpu_seconds: int = 300         # CPU time of the whole submission (RLIMIT_CPU)
    wall_seconds: float = 600.0    # wall time of the whole submission
    cell_seconds: float = 30.0     # one notebook cell
    call_seconds: float = 20.0     # one graded call (a question may set its own)
    processes: int = 256           # processes and threads (pids cgroup or RLIMIT_NPROC)
    file_mb: int = 64              # largest file it may write (RLIMIT_FSIZE), and its tmpfs
    output_kb: int = 64            # printed output kept for the feedback


@dataclass
class Fault:
    """Why a call produced no answer."""
    kind: str          # "timeout", "crash", "protocol", "limit"
    message: str
    output: str = ""

    def as_reply(self):
        return {"ok": False, "error": {"type": self.kind, "message": self.message, "traceback": ""},
                "fault": True, "seconds": 0.0}


_bwrap_state = {}
_stage_lock = threading.Lock()


def bwrap_available():
    """True when bubblewrap is installed and can create a sandbox on this machine (cached)."""
    if "ok" not in _bwrap_state:
        path = shutil.which("bwrap")
        ok, why = False, "bubblewrap (bwrap) is not installed"
        if path:
            try:
                proc = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
                                      capture_output=True, timeout=20)
                ok = proc.returncode == 0
                why = "" if ok else f"bwrap cannot create a sandbox here: {proc.stderr.decode(errors='replace').strip()[:200]}"
            except (OSError, subprocess.TimeoutExpired) as exc:
                why = f"bwrap cannot run here: {exc}"
        if os.environ.get("AUTOGRADER_NO_BWRAP"):
            ok, why = False, "bubblewrap disabled by AUTOGRADER_NO_BWRAP"
        _bwrap_state.update(ok=ok, why=why, path=path)
    return _bwrap_state["ok"]


def isolation_note(sandboxed=None):
    """One line for the run's output and each result's extra_data (for a session: whether it was sandboxed)."""
    if bwrap_available() if sandboxed is None else sandboxed:
        return "bubblewrap sandbox: no network, read-only system, private /tmp, own PID namespace"
    return ("WARNING: no bubblewrap sandbox (" + _bwrap_state.get("why", "") + "); student code ran in a plain "
            "child process with resource limits only, without filesystem or network isolation")


def stage_child_package():
    """Copy the child-side modules into a private directory (once per grading process)."""
    with _stage_lock:
        stage = _bwrap_state.get("stage")
        if stage and os.path.isdir(stage):
            return stage
        stage = tempfile.mkdtemp(prefix="autograder-child-")
        pkg = os.path.join(stage, "agchild")
        os.mkdir(pkg)
        for name in _CHILD_MODULES:
            shutil.copyfile(os.path.join(_HERE, name), os.path.join(pkg, name))
        with open(os.path.join(pkg, "__init__.py"), "w", encoding="utf-8") as fh:
            fh.write("")
        for root, dirs, files in os.walk(stage):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        _bwrap_state["stage"] = stage
        return stage


_CHILD_MAIN = "import sys; sys.path.insert(0, {stage!r}); from agchild.worker import {entry}; {entry}({fin}, {fout})"
_ROOT_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd",
              "/etc/group", "/etc/hosts", "/etc/ssl", "/etc/alternatives", "/etc/fonts", "/etc/matplotlibrc")


def _python_roots():
    roots = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), os.path.realpath(sys.exec_prefix)}
    exe = os.path.realpath(sys.executable)
    roots.add(os.path.dirname(os.path.dirname(exe)))
    return sorted(r for r in roots if r and r != "/" and not any(r.startswith(d + "/") or r == d for d in _ROOT_DIRS))


def _masks():
    """Directories inside the bound Python environment that student code must not read."""
    masks = []
    pkg = os.path.realpath(_HERE)
    for root in _python_roots():
        if pkg.startswith(root + "/"):
            masks.append(pkg)
    return masks


def matplotlib_font_cache():
    """Paths of matplotlib's font list for this environment, built once per machine and matplotlib
    version by a child that runs only matplotlib (no student code) into the user's cache folder.
    Sandboxes get the files bound read-only into their config folder: without them every child
    would scan the system's fonts again on `import matplotlib.pyplot` (0.2-0.3 s). [] when it
    cannot be built; matplotlib then builds its own, as before."""
    if "mpl_fonts" in _bwrap_state:
        return _bwrap_state["mpl_fonts"]
    files = []
    try:
        import hashlib
        import importlib.util
        found = importlib.util.find_spec("matplotlib")
        if found is None or not found.origin:
            raise ImportError("matplotlib is not installed")
        # one folder per installed copy of matplotlib (its path and modification time; a
        # metadata lookup would cost 30 ms of every `check`)
        tag = hashlib.sha256(f"{found.origin}:{os.stat(found.origin).st_mtime_ns}:{sys.version}".encode()).hexdigest()[:16]
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "autograder",
                            f"matplotlib-fonts-{tag}")
        if not os.path.isdir(base) or not os.listdir(base):
            build = tempfile.mkdtemp(prefix="autograder-mpl-")
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
    _bwrap_state["mpl_fonts"] = files
    return files


# One thread for every numerical library: the grader runs one sandbox per core. XLA's CPU flags
# make JAX (Keras's JAX backend) single-threaded too, and the same in the reference build.
JAX_CPU_ENV = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
               "JAX_PLATFORMS": "cpu"}
XLA_CACHE_MOUNT = "/opt/xla-cache"


def build_command(stage, workdir, data_files, fin, fout, limits, sandboxed, entry="main", extra_env=None,
                  xla_cache=None):
    """The child's command line and environment. extra_env: the assignment's variables (its Keras
    backend); xla_cache: (host folder, writable) for JAX's compilation cache, bound read-only into
    student sandboxes and writable only into the harness's own warm-up sandbox (CompileCache)."""
    code = _CHILD_MAIN.format(stage="/opt/agstage" if sandboxed else stage, fin=fin, fout=fout, entry=entry)
    python = sys.executable
    env = {"HOME": "/home/student" if sandboxed else workdir, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
           "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "LANG": "C.UTF-8",
           "MPLCONFIGDIR": ("/tmp" if sandboxed else workdir), "KERAS_HOME": ("/tmp" if sandboxed else workdir),
           "PATH": "/usr/bin:/bin", **JAX_CPU_ENV}
    env.update(extra_env or {})
    if sandboxed and xla_cache:
        env.update({"JAX_COMPILATION_CACHE_DIR": XLA_CACHE_MOUNT, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"})
    if not sandboxed:
        return [python, "-I", "-u", "-c", code], env, workdir
    size = str(limits.file_mb * 1024 * 1024)
    if "path" not in _bwrap_state:
        bwrap_available()
    cmd = [_bwrap_state["path"], "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
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
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/tmp",
            "--size", size, "--tmpfs", "/home/student"]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
    for m in _masks():
        cmd += ["--tmpfs", m]
    cmd += ["--ro-bind", stage, "/opt/agstage"]
    for name, path in data_files.items():
        cmd += ["--ro-bind", path, f"/home/student/{name}"]
    for path in matplotlib_font_cache():  # MPLCONFIGDIR is /tmp
        cmd += ["--ro-bind", path, f"/tmp/{os.path.basename(path)}"]
    if xla_cache:
        cmd += ["--bind" if xla_cache[1] else "--ro-bind", xla_cache[0], XLA_CACHE_MOUNT]
    cmd += ["--chdir", "/home/student"]
    for k, v in env.items():
        cmd += ["--setenv", k, v]
    cmd += [python, "-I", "-u", "-c", code]
    return cmd, {}, None


class _PidsCgroup:
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


def _preexec(limits, procs_file):
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
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        fsize = limits.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.getuid() != 0 and not procs_file:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes + 512, limits.processes + 512))
        try:  # die with the grader
            import ctypes
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    return apply


class _OutputSink(threading.Thread):
    """Drains the child's stdout/stderr; keeps the first `limit` bytes, counts the rest."""

    def __init__(self, stream, limit):
        super().__init__(daemon=True)
        self.stream, self.limit = stream, limit
        self.kept = bytearray()
        self.total = 0

    def run(self):
        while True:
            try:
                chunk = self.stream.read1(65536)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            self.total += len(chunk)
            room = self.limit - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def text(self):
        out = self.kept.decode("utf-8", errors="replace")
        if self.total > len(self.kept):
            out += f"\n[... {self.total - len(self.kept)} more bytes of output not kept]"
        return out

    def take(self):
        """The text so far, then start afresh (a zygote's sink serves one student after another)."""
        out = self.text()
        self.kept = bytearray()
        self.total = 0
        return out


def _kill_tree(proc, cgroup):
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


class Zygote:
    """A warm sandbox (bubblewrap, own PID namespace) whose Python has imported NumPy / Keras once
    and forks one child per submission (worker.zygote_main). After each child it kills every
    other process in the sandbox and empties /tmp and the home folder."""

    def __init__(self, data_files, preload, limits, env=None, xla_cache=None):
        stage = stage_child_package()
        self.tmp = tempfile.mkdtemp(prefix="autograder-zygote-")
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        cmd, env, cwd = build_command(stage, self.tmp, data_files, to_r, from_w, limits, True, entry="zygote_main",
                                      extra_env=env, xla_cache=(xla_cache, False) if xla_cache else None)
        self.cgroup = _PidsCgroup(limits.processes)
        own = Limits(**{**limits.__dict__, "cpu_seconds": 10 ** 6})
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, cwd=cwd, pass_fds=(to_r, from_w),
                                     preexec_fn=_preexec(own, self.cgroup.procs_file()))
        os.close(to_r)
        os.close(from_w)
        self.to = os.fdopen(to_w, "wb", buffering=0)
        self.from_fd = from_r
        self.buffer = b""
        self.sink = _OutputSink(self.proc.stdout, limits.output_kb * 1024)
        self.sink.start()
        self.key = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is None:
            return
        _kill_tree(self.proc, self.cgroup)
        self.sink.join(timeout=2)
        for close in (self.to.close, lambda: os.close(self.from_fd)):
            try:
                close()
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.proc = None


class ZygotePool:
    """Idle zygotes by configuration, shared by the grading threads of one process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle = {}
        self.max_idle_per_key = max(2, os.cpu_count() or 1)
        self.max_idle = 2 * self.max_idle_per_key

    @staticmethod
    def key(data_files, preload, limits, env=None, xla_cache=None):
        return (tuple(preload), tuple(sorted(data_files.items())), limits.memory_mb, limits.processes,
                limits.file_mb, limits.output_kb, tuple(sorted((env or {}).items())), xla_cache)

    def acquire(self, data_files, preload, limits, env=None, xla_cache=None):
        key = self.key(data_files, preload, limits, env, xla_cache)
        with self.lock:
            while self.idle.get(key):
                z = self.idle[key].pop()
                if z.alive():
                    return z, False
                z.kill()
        z = Zygote(data_files, preload, limits, env, xla_cache)
        z.key = key
        return z, True

    def release(self, z):
        if not z.alive():
            z.kill()
            return
        with self.lock:
            group = self.idle.setdefault(z.key, [])
            total = sum(len(g) for g in self.idle.values())
            if len(group) < self.max_idle_per_key and total < self.max_idle:
                group.append(z)
                return
        z.kill()  # enough warm sandboxes of this kind are idle already

    def shutdown(self):
        with self.lock:
            zs = [z for group in self.idle.values() for z in group]
            self.idle.clear()
        for z in zs:
            z.kill()


POOL = ZygotePool()
atexit.register(POOL.shutdown)


class CompileCache:
    """JAX's compilation cache for one assignment, shared read-only by the student sandboxes of a
    grading process, so that XLA compiles the Keras network's training and prediction steps once
    per run instead of once per submission (about 2 s each).

    Only the harness's own code writes it: a warm-up sandbox that runs no student code makes the
    spec's warm-up calls (spec.warmup: train the assignment's network for an epoch, predict) with a
    private staging folder bound writable; when it is done each file is moved into the shared
    folder by a rename, so a student sandbox sees a whole entry or none. Student sandboxes bind
    the shared folder read-only (JAX's cache trusts its entries: a writable one would let one
    student's code run in the next student's process). A submission graded before the warm-up
    finishes compiles for itself: the same numbers, only slower."""

    def __init__(self, data_files, limits, env, calls):
        self.path = tempfile.mkdtemp(prefix="autograder-xla-")
        self._staging = tempfile.mkdtemp(prefix="autograder-xla-warmup-")
        for d in (self.path, self._staging):
            os.chmod(d, 0o755)
        self.error = None
        self.entries = 0
        self.thread = threading.Thread(target=self._warm, args=(data_files, limits, env, calls), name="xla-warmup",
                                       daemon=True)
        self.thread.start()

    def _warm(self, data_files, limits, env, calls):
        try:
            # no preload: the warm-up imports only what its probes need (not TensorFlow)
            session = Session([], data_files, (), limits, sandbox=True, env=env, xla_cache=self._staging,
                              zygote=False, xla_writable=True)
            with session:
                if not session.start():
                    raise RuntimeError(f"the warm-up sandbox did not start: {session.output()[-300:]}")
                for call in calls:
                    reply = session.call(call, timeout=limits.call_seconds)
                    if not reply.get("ok"):
                        raise RuntimeError(f"warm-up call failed: {reply.get('error')}")
            for name in sorted(os.listdir(self._staging)):
                src = os.path.join(self._staging, name)
                if os.path.isfile(src) and not os.path.islink(src):
                    os.chmod(src, 0o644)
                    os.replace(src, os.path.join(self.path, name))
                    self.entries += 1
        except Exception as exc:  # noqa: BLE001 - without a cache every sandbox compiles for itself
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)

    def close(self):
        """Remove the folders (a warm-up still running dies with the grading process)."""
        for d in (self.path, self._staging):
            shutil.rmtree(d, ignore_errors=True)


_compile_caches = {}
_compile_caches_lock = threading.Lock()


def compile_cache(data_files, limits, env, calls):
    """The grading process's CompileCache for this configuration (started on first use), or None
    without bubblewrap: an unsandboxed child could write to any folder it shares."""
    if not calls or not bwrap_available():
        return None
    key = (tuple(sorted(data_files.items())), tuple(sorted(env.items())), repr(calls))
    with _compile_caches_lock:
        cache = _compile_caches.get(key)
        if cache is None:
            cache = _compile_caches[key] = CompileCache(data_files, limits, env, calls)
        return cache


def _close_compile_caches():
    with _compile_caches_lock:
        caches = list(_compile_caches.values())
        _compile_caches.clear()
    for cache in caches:
        cache.close()


atexit.register(_close_compile_caches)


def zygotes_enabled(sandboxed):
    return sandboxed and not os.environ.get("AUTOGRADER_NO_ZYGOTE")


class Session:
    """One submission's child process: runs its cells, then answers calls. Restarts after a fault."""

    def __init__(self, cells, data_files=None, preload=(), limits=None, sandbox="auto", env=None, xla_cache=None,
                 zygote=True, xla_writable=False):
        self.cells = list(cells)            # [{"index": i, "source": str}]
        self.data_files = dict(data_files or {})
        self.preload = list(preload)
        self.env = dict(env or {})          # the assignment's variables (spec.sandbox_env)
        self.xla_cache = xla_cache          # a CompileCache's folder, bound read-only; None: none
        self.limits = limits or Limits()
        self.sandboxed = bwrap_available() if sandbox == "auto" else bool(sandbox)
        self.skip = set()
        self.cell_errors = {}              # index -> error dict (from the first run)
        self.defined = []
        self.proc = None
        self.deadline = None
        self.started_at = None
        self.restarts = 0
        self.faults = []
        self._next_id = 0
        self._tmp = None
        self._cgroup = None
        self._sink = None
        self._buffer = b""
        self._helpers = None
        self._zygote = None
        self._child_exited = False
        self.spoke = False                  # the child answered at least once (Python started in it)
        self.use_zygote = zygote and zygotes_enabled(self.sandboxed)
        self._early = None                  # spawn_early's thread
        self._ready = False                 # the current child has run the cells (it takes helpers)
        self._xla_rw = bool(xla_writable)   # only CompileCache's own warm-up session writes the cache
        self.output_log = []

    # -- life cycle -------------------------------------------------------------------------------
    def _spawn(self, acquired=None):
        self._ready = False
        if self.started_at is None:
            self.started_at = time.monotonic()
            self.deadline = self.started_at + self.limits.wall_seconds
        if self.use_zygote:
            try:
                return self._spawn_from_zygote(acquired)
            except (_ChildGone, _Timeout, OSError) as exc:
                self.output_log.append(f"[autograder] warm sandbox unavailable ({exc}); starting a fresh one")
                self.use_zygote = False
        stage = stage_child_package()
        self._tmp = tempfile.mkdtemp(prefix="autograder-run-")
        os.chmod(self._tmp, 0o755)
        if not self.sandboxed:
            for name, path in self.data_files.items():
                shutil.copyfile(path, os.path.join(self._tmp, name))
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        cmd, env, cwd = build_command(stage, self._tmp, self.data_files, to_child_r, from_child_w,
                                      self.limits, self.sandboxed, extra_env=self.env,
                                      xla_cache=(self.xla_cache, self._xla_rw) if self.xla_cache else None)
        self._cgroup = _PidsCgroup(self.limits.processes)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     pass_fds=(to_child_r, from_child_w),
                                     preexec_fn=_preexec(self.limits, self._cgroup.procs_file()))
        os.close(to_child_r)
        os.close(from_child_w)
        self._to = os.fdopen(to_child_w, "wb", buffering=0)
        self._from = from_child_r
        self._buffer = b""
        self._sink = _OutputSink(self.proc.stdout, self.limits.output_kb * 1024)
        self._sink.start()

    def _spawn_from_zygote(self, acquired=None):
        z, fresh = acquired or POOL.acquire(self.data_files, self.preload, self.limits, self.env, self.xla_cache)
        self._zygote, self.proc, self._child_exited = z, z.proc, False
        self._to, self._from, self._buffer, self._sink = z.to, z.from_fd, z.buffer, z.sink
        if fresh:
            self._send({"op": "zygote", "preload": self.preload, "wipe": ["/tmp", "/home/student"],
                        "home": "/home/student", "pidns": True})
            msg = self._receive(180)
            if msg.get("op") != "zygote_ready":
                raise _ChildGone("the warm sandbox did not start")
        z.sink.take()
        mem = self.limits.memory_mb * 1024 * 1024
        fsize = self.limits.file_mb * 1024 * 1024
        self._send({"op": "fork", "limits": {"RLIMIT_AS": mem, "RLIMIT_CPU": self.limits.cpu_seconds,
                                             "RLIMIT_FSIZE": fsize, "RLIMIT_CORE": 0}})
        msg = self._receive(30)
        if msg.get("op") != "forked":
            raise _ChildGone("the warm sandbox did not fork")

    def _finish_zygote_child(self):
        """Graceful end of a child forked from a zygote: the zygote cleans up and goes back to the pool."""
        z = self._zygote
        try:
            self._send({"op": "exit"})
            while True:
                msg = self._receive(15)
                if msg.get("op") == "child_exit":
                    break
        except (_ChildGone, _Timeout):
            self._kill()
            return
        self.output_log.append(z.sink.take())
        z.buffer = self._buffer
        self._zygote, self.proc, self._sink = None, None, None
        POOL.release(z)

    def _send(self, message):
        data = (wire.dumps(message) + "\n").encode("utf-8")
        try:
            self._to.write(data)
        except (BrokenPipeError, OSError) as exc:
            raise _ChildGone(f"the child closed its input ({exc})") from None

    def _receive(self, timeout):
        """Next message from the child, or raise _ChildGone / _Timeout."""
        end = time.monotonic() + max(0.0, timeout)
        while b"\n" not in self._buffer:
            remaining = min(end, self.deadline) - time.monotonic()
            if remaining <= 0:
                raise _Timeout("submission" if time.monotonic() >= self.deadline else "call")
            ready, _, _ = select.select([self._from], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._from, 1 << 20)
            if not chunk:
                raise _ChildGone("the process ended")
            self._buffer += chunk
            if len(self._buffer) > wire.MAX_MESSAGE_BYTES:
                raise _ChildGone("the process sent a message larger than the limit")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            msg = wire.loads(line.decode("utf-8"))
        except (wire.WireError, UnicodeDecodeError) as exc:
            raise _ChildGone(f"the process sent something that is not a valid message ({exc})") from None
        if self._zygote is not None and isinstance(msg, dict) and msg.get("op") == "child_exit":
            self._child_exited = True
            raise _ChildGone(f"the process ended (status {msg.get('status')})")
        return msg

    def spawn_early(self):
        """Start the child (a warm sandbox's fork, or a fresh sandbox importing the preload) so that
        it starts while the caller is still reading the submission; start() waits for it. Set
        self.cells before start(). The processes are created in this thread (a child's
        parent-death signal fires when the thread that started it ends); only the waiting for a
        new warm sandbox to be ready happens in the background."""
        if not self.use_zygote:
            try:
                self._spawn()  # returns at once: the child imports while start() waits for its answer
            except Exception:  # noqa: BLE001 - start() spawns again
                self._kill()
            return
        try:
            acquired = POOL.acquire(self.data_files, self.preload, self.limits, self.env, self.xla_cache)
        except OSError:
            return

        def run():
            try:
                self._spawn(acquired)
            except Exception:  # noqa: BLE001 - start() spawns again in the foreground
                self._kill()
        self._early = threading.Thread(target=run, name="early-spawn", daemon=True)
        self._early.start()

    def _join_early(self):
        early, self._early = self._early, None
        if early is not None:
            early.join()
        return self.proc is not None and self.proc.poll() is None and not self._ready

    def start(self):
        """Start the child and run the cells. Returns False when the submission's time is used up."""
        spawned = self._join_early()
        first_run = not self.cell_errors and self.restarts == 0 and (self.proc is None or spawned)
        while True:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                return False
            if not spawned:
                self._spawn()
            spawned = False
            current = None
            try:
                self._send({"op": "init", "cells": self.cells, "skip": sorted(self.skip),
                            "cell_timeout": self.limits.cell_seconds, "preload": self.preload})
                while True:
                    msg = self._receive(self.limits.cell_seconds + 5 if current is not None else 120)
                    self.spoke = True
                    op = msg.get("op")
                    if op == "cell_start":
                        current = msg.get("index")
                    elif op == "cell_done":
                        if first_run and msg.get("error"):
                            self.cell_errors[msg.get("index")] = msg["error"]
                        current = None
                    elif op == "ready":
                        self._ready = True
                        self.defined = [d for d in msg.get("defined", []) if isinstance(d, str)]
                        if getattr(self, "_helpers", None):
                            self._send({"op": "helpers", "source": self._helpers})
                        return True
            except (_Timeout, _ChildGone) as exc:
                self._kill()
                self.restarts += 1
                if current is None:
                    # died outside any cell (start-up, import) or the submission's time is up
                    self.faults.append(Fault("crash", str(exc)))
                    return False
                kind = "Timeout" if isinstance(exc, _Timeout) else "Crash"
                if first_run:
                    self.cell_errors[current] = {"type": kind, "message": str(exc), "traceback": ""}
                self.skip.add(current)
                if self.restarts > len(self.cells) + 3:
                    return False

    def send_helpers(self, source):
        """Reference helpers for injection; (re)sent whenever a child becomes ready."""
        self._helpers = source
        if self._ready and self.proc is not None and self.proc.poll() is None:
            self._send({"op": "helpers", "source": source})

    def call(self, call, timeout=None):
        """Run one call; always returns a reply dict (a fault becomes an error reply)."""
        timeout = timeout or self.limits.call_seconds
        if self.proc is None or self.proc.poll() is not None:
            if not self.start():
                return Fault("limit", "the submission used up its time or could not start").as_reply()
        self._next_id += 1
        # An id the student code cannot guess in advance: a result for any other id was forged
        # (written to the pipe by student code), so the call fails instead of reading it.
        rid = f"{self._next_id}-{secrets.token_hex(8)}"
        try:
            self._send({"op": "call", "id": rid, "call": call, "timeout": timeout})
            while True:
                msg = self._receive(timeout + 2.0)
                if msg.get("op") == "result" and msg.get("id") == rid:
                    return msg
                if msg.get("op") == "result":
                    raise _ChildGone("it wrote a result for a call that was never made (forged)")
        except _Timeout as exc:
            self._kill()
            self.restarts += 1
            what = "the submission's total time ran out" if str(exc) == "submission" else \
                f"the call did not finish within {timeout:g} s"
            return Fault("Timeout", what).as_reply()
        except _ChildGone as exc:
            self._kill()
            self.restarts += 1
            return Fault("Crash", f"the student process stopped: {exc}").as_reply()

    def output(self):
        parts = list(self.output_log)
        if self._sink is not None:
            parts.append(self._sink.text())
        return "\n".join(p for p in parts if p)

    def _kill(self):
        if self._zygote is not None:
            z, self._zygote = self._zygote, None
            if getattr(self, "_child_exited", False) and z.alive():
                # the child ended by itself and the zygote has already cleaned up: reuse it
                self.output_log.append(z.sink.take())
                z.buffer = self._buffer
                POOL.release(z)
            else:
                z.kill()
                self.output_log.append(z.sink.text())
            self._child_exited = False
            self.proc, self._sink = None, None
            return
        if self.proc is None:
            return
        _kill_tree(self.proc, self._cgroup)
        if self._sink is not None:
            self._sink.join(timeout=2)
            self.output_log.append(self._sink.text())
            self._sink = None
        for f in (getattr(self, "_to", None),):
            try:
                f.close()
            except (OSError, AttributeError):
                pass
        try:
            os.close(self._from)
        except OSError:
            pass
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self.proc = None

    def close(self):
        self._join_early()
        if self._zygote is not None:
            if self._zygote.alive():
                self._finish_zygote_child()
            else:
                self._kill()
            return
        if self.proc is not None and self.proc.poll() is None:
            try:
                self._send({"op": "exit"})
            except _ChildGone:
                pass
        self._kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Timeout(Exception):
    pass


class _ChildGone(Exception):
    pass
