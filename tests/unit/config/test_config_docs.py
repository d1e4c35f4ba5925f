"""docs/config.md carries option tables generated from the models: they cannot drift.

Regenerate after changing a model: ``.venv/bin/python tests/unit/config/test_config_docs.py``.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from openfront.config import OpenFrontConfig
from openfront.config.edge import GiB, KiB, MiB, parse_size
from openfront.config.managed import MANAGED_CACHE_POLICIES, MANAGED_ORIGIN_REQUEST_POLICIES

DOC = Path(__file__).resolve().parents[3] / "docs" / "config.md"
BEGIN, END = "<!-- BEGIN GENERATED OPTIONS -->", "<!-- END GENERATED OPTIONS -->"
BEGIN_MANAGED, END_MANAGED = "<!-- BEGIN GENERATED MANAGED -->", "<!-- END GENERATED MANAGED -->"
_SCALARS = {int: "integer", str: "string", bool: "boolean", float: "number", Path: "path"}


def _is_size(field: FieldInfo) -> bool:
    return any(getattr(m, "func", None) is parse_size for m in field.metadata)


def _type(ann: Any) -> str:
    origin, args = get_origin(ann), get_args(ann)
    if origin is Annotated:
        return _type(args[0])
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(_type(a) for a in args if a is not type(None)) + " or null"
    if origin is tuple:
        return f"list of {_type(args[0])}"
    if ann is type(None):
        return "refused"
    if ann is SecretStr:
        return "secret string"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"[{ann.__name__}](#{ann.__name__.lower()})"
    return _SCALARS.get(ann, str(ann))


def _human(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} B".replace(",", "\u202f") if n >= 10_000 else str(n)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        return "see table"
    value = field.default
    if isinstance(value, BaseModel):
        return "see table"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int) and _is_size(field):
        return _human(value)
    if isinstance(value, tuple):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    return f"`{value}`"


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(ann: Any) -> None:
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if ann not in seen:
                seen.append(ann)
                for f in ann.model_fields.values():
                    visit(f.annotation)
        for arg in get_args(ann):
            visit(arg)

    visit(root)
    return seen


def key_of(name: str, field: FieldInfo) -> str:
    return field.alias or name


def render_options() -> str:
    out: list[str] = []
    for model in _models(OpenFrontConfig):
        out += [f"### {model.__name__}", ""]
        if model.__doc__ and model.__module__.startswith("openfront") and model is not BaseModel:
            out += [" ".join(model.__doc__.split()), ""]
        out += ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            kind = "size" if _is_size(field) else _type(field.annotation)
            desc = (field.description or "").replace("|", "\\|")
            out.append(f"| `{key_of(name, field)}` | {kind} | {_default(field)} | {desc} |")
        out.append("")
    return "\n".join(out)


def render_managed() -> str:
    out = [
        "| Cache policy | Id | Min / Default / Max TTL | Key |",
        "|---|---|---|---|",
    ]
    for p in MANAGED_CACHE_POLICIES:
        c = p.cache_policy_config
        k = c.parameters_in_cache_key_and_forwarded_to_origin
        lo, mid, hi = c.ttls()
        enc = [
            e
            for e, on in (
                ("gzip", k.enable_accept_encoding_gzip),
                ("br", k.enable_accept_encoding_brotli),
            )
            if on
        ]
        key = [
            f"headers: {', '.join(k.headers_config.headers) or 'none'}",
            f"cookies: {k.cookies_config.cookie_behavior}",
            f"query strings: {k.query_strings_config.query_string_behavior}"
            + (
                f" ({', '.join(k.query_strings_config.query_strings)})"
                if k.query_strings_config.query_strings
                else ""
            ),
            f"Accept-Encoding: {'+'.join(enc) or 'no'}",
        ]
        out.append(f"| {c.name} | `{p.id}` | {lo} / {mid} / {hi} | {'; '.join(key)} |")
    out += [
        "",
        "| Origin request policy | Id | Headers | Cookies | Query strings |",
        "|---|---|---|---|---|",
    ]
    for o in MANAGED_ORIGIN_REQUEST_POLICIES:
        c2 = o.origin_request_policy_config
        hdrs = c2.headers_config.header_behavior
        if c2.headers_config.headers:
            names = c2.headers_config.headers
            shown = ", ".join(names) if len(names) <= 5 else f"{len(names)} CloudFront-* headers"
            hdrs += f" ({shown})"
        out.append(
            f"| {c2.name} | `{o.id}` | {hdrs} | {c2.cookies_config.cookie_behavior} | "
            f"{c2.query_strings_config.query_string_behavior} |"
        )
    return "\n".join(out) + "\n"


def _splice(text: str, begin: str, end: str, body: str) -> str:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}{end}{tail}"


def rendered_doc() -> str:
    text = DOC.read_text(encoding="utf-8")
    text = _splice(text, BEGIN, END, render_options())
    return _splice(text, BEGIN_MANAGED, END_MANAGED, render_managed())


def test_doc_tables_are_generated_from_the_models() -> None:
    assert DOC.read_text(encoding="utf-8") == rendered_doc(), (
        "docs/config.md is out of date: run .venv/bin/python tests/unit/config/test_config_docs.py"
    )


def test_every_field_of_every_model_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for model in _models(OpenFrontConfig):
        assert f"### {model.__name__}" in text
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            assert f"| `{key_of(name, field)}` |" in text, f"{model.__name__}.{name} undocumented"


if __name__ == "__main__":
    DOC.write_text(rendered_doc(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
