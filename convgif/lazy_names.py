"""A package's public names imported from their modules on first use (PEP 562), so that importing the package
loads only what a run asks for: `convgif.engine` and `convgif.encode` list each name's module once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str], namespace: dict[str, Any]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module `__getattr__` and `__dir__` of `package`, whose name N lives in `package.homes[N]`;
    `namespace` is the package's globals(), where a name is kept once imported."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # __import__, not importlib.import_module: `python -X importtime` then lists the module under its own name
        value = getattr(__import__(f"{package}.{home}", fromlist=[name]), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__
