"""One configuration object for the grader, passed down from the front ends (cli, batch, notebook,
nbgrader, gradescope) to the sandbox. Every `AUTOGRADER_*` environment variable is read here and
only here (`GraderConfig.from_env`); they are documented in docs/architecture.md.
"""
import os
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Limits:
    """What one child (one question of one submission) may use."""
    memory_mb: int = 3072          # address space (RLIMIT_AS)
    cpu_seconds: int = 300         # CPU time of one question's process (RLIMIT_CPU)
    question_seconds: float = 300.0  # wall time of one question, cells included
    cell_seconds: float = 30.0     # one notebook cell
    call_seconds: float = 20.0     # one graded call (a question may set its own)
    processes: int = 256           # processes and threads (pids cgroup where one can be made)
    file_mb: int = 64              # largest file it may write (RLIMIT_FSIZE), and each writable tmpfs
    output_kb: int = 64            # printed output kept for the feedback
    reply_mb: int = 16             # largest single reply the grader reads from it


def _seconds(text, default):
    try:
        return max(0.0, float(text)) if text not in (None, "") else default
    except ValueError:
        return default


@dataclass(frozen=True)
class GraderConfig:
    """isolation: "auto" (bubblewrap where it works here, else a plain process), "bwrap" or
    "process" (env AUTOGRADER_NO_BWRAP=1). warm_pool: reuse warm sandboxes (zygotes) across
    submissions (AUTOGRADER_NO_ZYGOTE=1 turns it off: a fresh one for each submission).
    keras_backend: overrides an assignment's preferred Keras backend (AUTOGRADER_KERAS_BACKEND).
    lang: the language of every message, "en" or "ko" (AUTOGRADER_LANG; default "en").
    student_uid: the unprivileged user student code runs as when the grader is root
    (AUTOGRADER_STUDENT_UID; default nobody, 65534; without bubblewrap each warm sandbox takes its
    own uid counting from 61000). reuse_compile_cache: keep the Keras questions' XLA compilation
    cache (written by the harness's warm-up sandbox only) in the user's cache folder and read it in
    later runs and checks (AUTOGRADER_FRESH_COMPILE_CACHE=1: warm up again, store nothing, read
    nothing stored). check_server_idle_s: how long a student's warm `autograder check` server of a
    Keras assignment waits for the next check before it exits (AUTOGRADER_CHECK_SERVER_IDLE, seconds;
    default 600; 0: no server, every check starts its own sandbox; see check_server.py).
    limits: Limits."""
    isolation: str = "auto"
    warm_pool: bool = True
    keras_backend: str = None
    lang: str = "en"
    student_uid: int = 65534
    reuse_compile_cache: bool = True
    check_server_idle_s: float = 600.0
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, environ=None, **overrides):
        env = os.environ if environ is None else environ
        values = {
            "isolation": "process" if env.get("AUTOGRADER_NO_BWRAP") else "auto",
            "warm_pool": not env.get("AUTOGRADER_NO_ZYGOTE"),
            "keras_backend": env.get("AUTOGRADER_KERAS_BACKEND") or None,
            "lang": env.get("AUTOGRADER_LANG") if env.get("AUTOGRADER_LANG") in ("ko", "en") else "en",
            "student_uid": int(env.get("AUTOGRADER_STUDENT_UID") or 65534),
            "reuse_compile_cache": not env.get("AUTOGRADER_FRESH_COMPILE_CACHE"),
            "check_server_idle_s": _seconds(env.get("AUTOGRADER_CHECK_SERVER_IDLE"), 600.0),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_limits(self, **changes):
        return replace(self, limits=replace(self.limits, **{k: v for k, v in changes.items() if v is not None}))
