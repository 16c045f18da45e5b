"""Read the pickles that ship inside the pkuseg sdist without executing anything.

A pickle can call any importable function while loading. The pkuseg files hold only dicts, lists,
strings and numbers, which the pickle protocol builds from opcodes alone, so an unpickler that
refuses every global admits exactly the plain data and rejects any code reference. It is used once,
at build time, to convert to msgpack; nothing pickled is loaded at run time.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

_PLAIN = (dict, list, tuple, str, int, float, bool, bytes, type(None))


class PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only plain containers and scalars are admitted"
        )


def _check_plain(obj: Any, depth: int = 0) -> None:
    if depth > 20:
        raise pickle.UnpicklingError("nesting too deep for plain model data")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_plain(k, depth + 1)
            _check_plain(v, depth + 1)
    elif isinstance(obj, list | tuple):
        # Model tables are long lists of scalars: check the types without recursing per item.
        for item in obj:
            if isinstance(item, dict | list | tuple):
                _check_plain(item, depth + 1)
            elif not isinstance(item, _PLAIN):
                raise pickle.UnpicklingError(f"unexpected {type(item).__name__} in model data")
    elif not isinstance(obj, _PLAIN):
        raise pickle.UnpicklingError(f"unexpected {type(obj).__name__} in model data")


def loads_plain(data: bytes) -> Any:
    obj = PlainDataUnpickler(io.BytesIO(data)).load()
    _check_plain(obj)
    return obj
