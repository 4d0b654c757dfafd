"""Name → implementation registries, so configs pick summary formats, metrics and backends by name."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from harness.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of implementations of one plug point.

    Example:
        >>> formats: Registry[type] = Registry("summary format")
        >>> @formats.register("plain")
        ... class Plain: ...
        >>> formats.get("plain").__name__
        'Plain'
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers an implementation under ``name``."""

        def decorator(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            return item

        return decorator

    def get(self, name: str) -> T:
        """The implementation registered as ``name``; a ``ConfigError`` listing the known names if none."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise ConfigError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
