"""Running untrusted code, grader side: isolation (how a sandbox is walled in), pool (warm
zygotes and the shared compile cache), session (one submission's per-question children).
The child side, the only harness code beside student code, is autograder/child/."""
from ..config import GraderConfig, Limits
from .isolation import JAX_CPU_ENV, XLA_CACHE_MOUNT, bwrap_status, isolation_note, remove_stale_stages, uses_bwrap
from .pool import POOL, CompileCache, SandboxSetup, Zygote, compile_cache, stored_cache_path
from .session import Session

__all__ = ["GraderConfig", "Limits", "JAX_CPU_ENV", "XLA_CACHE_MOUNT", "bwrap_status", "isolation_note",
           "remove_stale_stages", "uses_bwrap", "POOL", "CompileCache", "SandboxSetup", "Zygote", "compile_cache", "stored_cache_path",
           "Session", "bwrap_available"]


def bwrap_available():
    """True when bubblewrap can make a sandbox here (whatever the configuration says)."""
    return bwrap_status()[0]
