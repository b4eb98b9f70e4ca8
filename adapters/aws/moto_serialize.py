"""moto's response serializer on the fast path: the same bytes, less work.

moto turns a model object into an answer by walking the operation's output shape
from botocore's service model, and for every member of the answer (about 150 for
one RunInstances) it builds a context, joins the member's path, asks each of its
alias rules which attribute names to try, and tests the member's path against every
response transformer of the service (EC2 has a dozen). On the fast path the member
is read the same way, but what only depends on the member is worked out once:

* the attribute names to try. moto's own alias rules read only the object's class
  (its name, its ``Meta.serialization_aliases``), the member's name, the member's
  shape and the shape's parent. So the names are remembered on the member's shape
  (under the class, the Meta, the member and the parent; the Meta and the parent are
  held, so an id in a key stays theirs) and go when the shape goes: an answer's shapes
  come from the service model, which moto loads once per process, but an error's are
  made anew for each error (moto's error lookup), and a table beside them would keep
  every one alive for the run. A picker with a rule of its own, or of another class, is
  asked every time, as moto asks it.
* the response transformer that applies to a member's path: the first whose path
  ends the member's, in the service's table as it is when the answer is serialized
  (moto's EC2 adds entries to it at run time, so its contents are part of the key).

The value is read from the object every time, transformed as moto transforms it.

The XML answers (EC2's, ELBv2's and the other query protocols') are then written by
``xmltodict.unparse``, an event per element through the standard library's SAX
writer. moto's serializer is handed a writer of the same documents in one pass
(:func:`unparse`) for what moto gives it: elements named plainly, holding dicts,
lists, strings, numbers, booleans or nothing, with string attributes (the
``@xmlns`` of every answer). Anything else (text keys, comments, namespace maps, other
types, names ``xmltodict`` checks harder, pretty printing) goes to ``xmltodict``
itself, which raises what it raises.

Off the fast path (``DNSCHAOS_FAST=0``) moto's own reading runs; the conformance
suite (``tests/conformance/ec2/test_serialized_answers.py``) holds the bodies to
moto's own, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final
from xml.sax.saxutils import escape, quoteattr

_MAX_KEPT: Final = 65536  # remembered transformers; a full table starts again
_MAX_PER_SHAPE: Final = 256  # remembered names on one shape; a full table starts again
_MISSING: Final = object()

# On each shape, under this attribute: (class of the object, id of its Meta, member,
# id of the shape's parent) -> (Meta, parent, the attribute names to try).
NAMES: Final = "_dnschaos_names"
# (a transformer table's contents, the member's path) -> the transformer, or None
_transformers_kept: dict[tuple[int, str], Callable[[Any], Any] | None] = {}
_tables: dict[tuple[tuple[str, Any], ...], int] = {}  # a table's contents -> its number
# (a transformer table's number, a member's name) -> whether a path of the table could end it
_endings_kept: dict[tuple[int, str], bool] = {}


def install(fast_path: Callable[[], bool]) -> None:
    """Read members as above while ``fast_path()`` is on (once per process)."""
    import moto.core.serialize as serialize

    base = getattr(serialize, "ResponseSerializer", None)
    picker = getattr(serialize, "XFormedAttributePicker", None)
    known = frozenset(getattr(serialize, "DEFAULT_ALIAS_PROVIDERS", ()))
    context_of = getattr(serialize, "AttributePickerContext", None)
    if base is None or picker is None or not known or context_of is None:
        return  # a moto without them: its own way every time
    if "_dnschaos_original" in base.get_value.__dict__:
        return
    original = base.get_value
    possible_keys = picker.get_possible_keys
    from moto.core.utils import get_value as read

    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        chooser = self._value_picker
        # Whether the picker is moto's own, with moto's rules: asked once per answer (a
        # serializer serializes one), not for each of its members.
        ours = self.__dict__.get("_dnschaos_ours")
        if ours is None:
            ours = self.__dict__["_dnschaos_ours"] = type(chooser) is picker and known.issuperset(
                chooser.alias_providers
            )
        if not ours or not fast_path():
            return original(self, value, key, shape)
        kept = getattr(shape, "__dict__", None)
        if kept is None:
            return original(self, value, key, shape)  # nowhere to keep them
        table = kept.get(NAMES)
        if table is None:
            table = kept[NAMES] = {}
        parent = getattr(shape, "parent", None)
        meta = getattr(value, "Meta", None)
        where = (type(value), id(meta), key, id(parent))
        names = table.get(where)
        if names is None or names[0] is not meta or names[1] is not parent:
            context = context_of(
                obj=value,
                key=key,
                shape=shape,
                operation_model=self.operation_model,
                service_model=self.operation_model.service_model,
                key_path=".".join(self.path),
            )
            if len(table) >= _MAX_PER_SHAPE:
                table.clear()
            tried = tuple(possible_keys(chooser, context))
            plain = all(type(name) is str and "." not in name for name in tried)
            names = (meta, parent, tried, plain)
            table[where] = names
        found = None
        if not names[3]:  # a path ("a.b") among the names: moto's reading walks it
            for name in names[2]:
                got = read(value, name, _MISSING)
                if got is not _MISSING:
                    found = got
                    break
        elif hasattr(value, "__getitem__"):  # moto's reading of one name, inlined
            for name in names[2]:
                try:
                    found = value[name]
                    break
                except (KeyError, IndexError, TypeError, AttributeError):
                    pass
        else:
            for name in names[2]:
                got = getattr(value, name, _MISSING)
                if got is not _MISSING:
                    found = got
                    break
        transformers = chooser.response_transformers
        if transformers:
            # The table's contents, numbered once per answer (a serializer serializes one).
            number = self.__dict__.get("_dnschaos_table")
            if number is None:
                number = self.__dict__["_dnschaos_table"] = _number(transformers)
            # Most members end no transformer's path: their own path is not even joined.
            if _could_end(number, transformers, key):
                transform = _transformer(number, transformers, f"{'.'.join(self.path)}.{key}")
                if transform is not None:
                    found = transform(found)
        return found

    get_value._dnschaos_original = original  # type: ignore[attr-defined]
    base.get_value = get_value
    serialize.xmltodict = _Writer(serialize.xmltodict, fast_path)


def _number(table: dict[str, Callable[[Any], Any]]) -> int:
    """A number for the table's contents as they are now."""
    contents = tuple(table.items())
    number = _tables.get(contents)
    if number is None:
        if len(_tables) >= 256:  # a table rewritten at every request: start again
            _tables.clear()
            _transformers_kept.clear()
            _endings_kept.clear()
        number = _tables[contents] = len(_tables)
    return number


def _transformer(
    number: int, table: dict[str, Callable[[Any], Any]], path: str
) -> Callable[[Any], Any] | None:
    """The first transformer of ``table`` (numbered ``number``) whose path ends ``path``."""
    where = (number, path)
    if where in _transformers_kept:
        return _transformers_kept[where]
    found = next((fn for end, fn in table.items() if path.endswith(end)), None)
    if len(_transformers_kept) >= _MAX_KEPT:
        _transformers_kept.clear()
    _transformers_kept[where] = found
    return found


def _could_end(number: int, table: dict[str, Callable[[Any], Any]], key: str) -> bool:
    """Whether some path of ``table`` (numbered ``number``) could end a member's path whose
    last part is ``key``: one as long as the key or shorter must end it, a longer one must
    end with it; for any other member no transformer applies, whatever its path."""
    where = (number, key)
    could = _endings_kept.get(where)
    if could is None:
        could = any(
            key.endswith(end) if len(end) <= len(key) else end.endswith(key) for end in table
        )
        if len(_endings_kept) >= _MAX_KEPT:
            _endings_kept.clear()
        _endings_kept[where] = could
    return could


# --------------------------------------------------------------------------- XML

# Element names written here: what moto's shapes use. Others go to xmltodict, which
# refuses some (quotes, '<', whitespace...) and treats '@' and '#' keys apart.
_PLAIN_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_DECLARATION: Final = '<?xml version="1.0" encoding="utf-8"?>\n'


class _NotPlain(Exception):
    """The document holds something only xmltodict writes."""


class _Writer:
    """moto's ``xmltodict``, but for ``unparse`` on the fast path (see :func:`unparse`)."""

    def __init__(self, module: Any, fast_path: Callable[[], bool]) -> None:
        self._module = module
        self._fast_path = fast_path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def unparse(self, input_dict: Any, *args: Any, **kwargs: Any) -> Any:
        if self._fast_path() and not args and kwargs.get("output") is None:
            try:
                return unparse(input_dict, **{k: v for k, v in kwargs.items() if k != "output"})
            except _NotPlain:
                pass
        return self._module.unparse(input_dict, *args, **kwargs)


def unparse(
    input_dict: Any,
    encoding: str = "utf-8",
    full_document: bool = True,
    short_empty_elements: bool = False,
    pretty: bool = False,
    **others: Any,
) -> str:
    """What ``xmltodict.unparse`` returns for a plain document; :class:`_NotPlain` for any
    other (a document xmltodict would refuse, too)."""
    if others or pretty or encoding != "utf-8" or not isinstance(input_dict, dict):
        raise _NotPlain
    if full_document and len(input_dict) != 1:
        raise _NotPlain  # one root, or xmltodict's error
    out: list[str] = [_DECLARATION] if full_document else []
    for key, value in input_dict.items():
        if full_document and isinstance(value, (list, tuple)) and len(value) > 1:
            raise _NotPlain  # several roots: xmltodict's error
        _element(out, key, value, short_empty_elements)
    return "".join(out)


def _element(out: list[str], key: Any, value: Any, short: bool) -> None:
    if type(key) is not str or not _PLAIN_NAME.fullmatch(key):
        raise _NotPlain
    for item in value if type(value) in (list, tuple) else (value,):
        kind = type(item)
        if item is None or (kind is str and not item):
            out.append(f"<{key}/>" if short else f"<{key}></{key}>")
        elif kind is str:
            out.append(f"<{key}>{escape(item)}</{key}>")
        elif kind is dict:
            start = len(out)
            attributes = ""
            out.append("")  # the start tag, once its attributes are known
            for child_key, child in item.items():
                if type(child_key) is str and child_key[:1] == "@":  # an attribute
                    name = child_key[1:]
                    if not _PLAIN_NAME.fullmatch(name) or not (child is None or type(child) is str):
                        raise _NotPlain
                    attributes += f" {name}={quoteattr(child or '')}"
                else:
                    _element(out, child_key, child, short)  # an empty list writes nothing
            if len(out) == start + 1:  # nothing inside (no children, or only empty lists)
                out[start] = f"<{key}{attributes}/>" if short else f"<{key}{attributes}></{key}>"
            else:
                out[start] = f"<{key}{attributes}>"
                out.append(f"</{key}>")
        elif kind is bool:
            out.append(f"<{key}>{'true' if item else 'false'}</{key}>")
        elif kind is int or kind is float:
            out.append(f"<{key}>{escape(str(item))}</{key}>")
        else:
            raise _NotPlain  # bytes, sets, other objects: xmltodict's own way


__all__ = ["NAMES", "install", "unparse"]
