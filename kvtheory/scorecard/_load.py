"""Finding the policy to grade: ``FILE.py:FUNC``, ``package.module:FUNC`` or a registered name."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

__all__ = ["load_policy"]


def load_policy(spec: str):
    """``(policy, label)`` for a spec, or a one-line ``ValueError``.

    Examples
    --------
    >>> load_policy("mc-sf")[1], load_policy("kvtheory:mc_sf")[1]
    ('mc-sf', 'kvtheory:mc_sf')
    >>> load_policy("kvtheory:no_such_policy")
    Traceback (most recent call last):
    ...
    ValueError: cannot load policy 'kvtheory:no_such_policy': module kvtheory has no attribute 'no_such_policy'
    """
    from kvtheory.engines.policies import POLICIES
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"a policy spec must be FILE.py:FUNC, package.module:FUNC or a "
                         f"registered name, got {spec!r}")
    if spec in POLICIES:
        return POLICIES[spec], spec
    where, sep, func = spec.rpartition(":")
    if not sep or not where or not func:
        raise ValueError(f"cannot load policy {spec!r}: not a registered name (see 'python -m "
                         f"kvtheory simulate --policy all') and not FILE.py:FUNC or "
                         f"package.module:FUNC")
    try:
        if where.endswith(".py"):
            path = Path(where).expanduser().resolve()
            if not path.is_file():
                raise ValueError(f"no file {where}")
            name = f"_kvtheory_policy_{abs(hash(str(path)))}"
            module = sys.modules.get(name)
            if module is None:
                mspec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(mspec)
                sys.modules[name] = module
                try:
                    mspec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]
                    raise
            what = f"file {where}"
        else:
            module = importlib.import_module(where)
            what = f"module {where}"
        if not hasattr(module, func):
            raise ValueError(f"{what} has no attribute {func!r}")
        fn = getattr(module, func)
    except ValueError as err:
        raise ValueError(f"cannot load policy {spec!r}: {err}") from None
    except (Exception, SystemExit) as err:                    # noqa: BLE001  (user code)
        text = " ".join(str(err).split())
        raise ValueError(f"cannot load policy {spec!r}: {type(err).__name__}: {text}") from None
    if not callable(fn):
        raise ValueError(f"cannot load policy {spec!r}: {func} is a {type(fn).__name__}, not "
                         f"callable as policy(state) -> Decision")
    return fn, spec
