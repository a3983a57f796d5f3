"""Name registries for schedules and loss switches.

A registered class is found by a short stable name, which doubles as the value
of an ``hp.Choice`` and as the ``"name"`` key of its serialised form.
"""

from __future__ import annotations

import inspect
from typing import Any, Generic, TypeVar

from tuneweights import _validation as v

T = TypeVar("T")
_JSON_SCALARS = (str, int, float, bool, type(None))


class Registry(Generic[T]):
    """Classes of one kind by name, with `get`/`serialize` in the Keras style.

    Args:
        kind: What is registered, for messages ("schedule").
        base: The base class every registered class derives from.
        module: Public module of the kind ("tuneweights.schedules").
        flat: Whether configs must be flat JSON scalars (they become
            hyperparameter values).
    """

    def __init__(self, kind: str, base: type[T], module: str, flat: bool = True) -> None:
        self.kind = kind
        self.base = base
        self.module = module
        self.flat = flat
        self.classes: dict[str, type[T]] = {}

    def register(self, cls: Any) -> Any:
        """Register `cls` under its ``name`` (a class decorator).

        Registering a class again is a no-op; a class redefined under the same
        module and qualified name (a re-run notebook cell, a reloaded module)
        replaces the old definition.
        """
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise v.wrong_type("cls", f"a subclass of `{self.module}.{self.base.__name__}`", cls)
        name = v.check_name(f"{cls.__qualname__}.name", getattr(cls, "name", ""))
        existing = self.classes.get(name)
        if existing is not None and (existing.__module__, existing.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise v.invalid(
                f"{cls.__qualname__}.name",
                f"be unique, but {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}",
                name,
                hint=f"Registered names: {sorted(self.classes)}",
            )
        self.classes[name] = cls
        return cls

    def serialize(self, obj: Any) -> dict[str, Any]:
        """``{"name": obj.name, **obj.get_config()}``, checked against the registry."""
        if not isinstance(obj, self.base):
            raise v.wrong_type(self.kind, f"a `{self.module}.{self.base.__name__}`", obj)
        name = getattr(obj, "name", "")
        if self.classes.get(name) is not type(obj):
            raise v.invalid(
                self.kind,
                f"be of a registered class (name {name!r} is not registered to {type(obj).__qualname__})",
                obj,
                hint=f"Decorate the class with `@{self.module}.register`",
            )
        config = obj.get_config()  # type: ignore[attr-defined]
        bad = {
            key: value
            for key, value in config.items()
            if key == "name" or (self.flat and not isinstance(value, _JSON_SCALARS))
        }
        if bad:
            rule = "return JSON scalars (str, int, float, bool, None) under keys other than 'name'"
            raise v.invalid(
                f"{type(obj).__qualname__}.get_config()",
                rule if self.flat else "not use the key 'name'",
                bad,
            )
        return {"name": name, **config}

    def complete(self, config: dict[str, Any]) -> dict[str, Any]:
        """A saved ``{"name": ..., **config}`` with the defaults of parameters it lacks.

        A config written before its class gained a parameter then compares
        equal to one written today. Unknown names are returned as they are.

        Example:
            >>> registry = Registry("thing", object, "example")
            >>> class Thing:
            ...     name = "thing"
            ...     def __init__(self, size=1, tags=("a",)):
            ...         pass
            >>> _ = registry.register(Thing)
            >>> registry.complete({"name": "thing"})
            {'name': 'thing', 'size': 1, 'tags': ['a']}
        """
        cls = self.classes.get(str(config.get("name")))
        if cls is None:
            return dict(config)
        defaults = {
            name: list(p.default) if isinstance(p.default, tuple) else p.default
            for name, p in inspect.signature(cls).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
        return {
            **{"name": config["name"]},
            **{k: d for k, d in defaults.items() if k not in config},
            **config,
        }

    def get(self, identifier: Any) -> T:
        """An instance from a registered name, a dict from `serialize`, or an instance."""
        if isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, str):
            return self.lookup(identifier)()
        if isinstance(identifier, dict):
            config = dict(identifier)
            if "name" not in config:
                raise v.invalid(
                    "identifier",
                    f"have a 'name' key naming the {self.kind} (as produced by `serialize`)",
                    identifier,
                )
            cls = self.lookup(config.pop("name"))
            try:
                inspect.signature(cls).bind(**config)
            except TypeError:
                accepted = list(inspect.signature(cls).parameters)
                raise v.invalid(
                    "identifier", f"hold only parameters of {cls.__qualname__} {accepted}", identifier
                ) from None
            return cls.from_config(config)  # type: ignore[attr-defined]
        raise v.wrong_type(
            "identifier",
            f"a {self.kind} name, a dict from `{self.module}.serialize` or a `{self.base.__name__}`",
            identifier,
        )

    def lookup(self, name: Any) -> type[T]:
        """The class registered under `name`."""
        if not isinstance(name, str) or name not in self.classes:
            raise v.invalid(
                "identifier",
                f"name a registered {self.kind}, one of {sorted(self.classes)}",
                name,
                hint=f"To use a custom {self.kind}, subclass `{self.module}.{self.base.__name__}` "
                f"and decorate it with `@{self.module}.register`",
            )
        return self.classes[name]
