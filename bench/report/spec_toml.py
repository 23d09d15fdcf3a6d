"""A parsed grid spec shown as TOML on the report's environment section: for reading, not for
round-tripping (a null is marked as a comment)."""

import json
import re


def _toml_key(key) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", str(key)) else json.dumps(str(key))


def _toml_value(value) -> str:
    if value is None:
        return '"" # none'
    if isinstance(value, dict):
        pairs = (f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(pairs) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, default=str)  # JSON strings, numbers and booleans read as TOML


def spec_to_toml(spec: dict, prefix="") -> str:
    """A parsed grid spec shown as TOML (for reading: nulls are marked, not round-tripped)."""
    lines, tables_ = [], []
    for key, value in spec.items():
        if isinstance(value, dict):
            tables_.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables_:
        name = f"{prefix}{_toml_key(key)}"
        lines += ["", f"[{name}]", spec_to_toml(value, name + ".")]
    return "\n".join(lines).strip("\n")
