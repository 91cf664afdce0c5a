"""`dialogue.results._plain` (the JSON-ready copies inside `to_dict`) against the plain recursive copy."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogue.results import _plain


def _reference(value: Any) -> Any:
    """The straightforward copy: recurse into every dict, list and tuple; keep anything else."""
    if isinstance(value, dict):
        return {k: _reference(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reference(v) for v in value]
    return value


class Name(str):
    """A str subclass: kept as it is, like a str."""


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5))
data = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=3), inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(data)
def test_plain_copies_like_the_reference(value: Any) -> None:
    got, want = _plain(value), _reference(value)
    assert got == want and repr(got) == repr(want)  # same types too: tuples became lists everywhere


def test_plain_copies_containers_and_keeps_scalars_and_subclasses() -> None:
    inner = [1, (2, 3)]
    value = {"a": inner, "b": OrderedDict(x=(Name("n"), None)), "c": True, "d": 1.5}
    got = _plain(value)
    assert got == {"a": [1, [2, 3]], "b": {"x": [Name("n"), None]}, "c": True, "d": 1.5}
    assert got["a"] is not inner and type(got["b"]) is dict  # fresh containers: callers may change them
    assert type(got["b"]["x"][0]) is Name
