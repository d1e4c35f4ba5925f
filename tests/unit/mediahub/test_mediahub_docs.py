"""docs/mediahub.md: its settings tables come from the models, and its examples load.

Regenerate the tables after changing a model:
``.venv/bin/python tests/unit/mediahub/test_mediahub_docs.py``.
Mark a settings example with ``<!-- example: mediahub -->`` on the line before its fence.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from openfront.config.edge import parse_size
from openfront.config.mediahub import MediaHubConfig, mediahub_config

DOC = Path(__file__).resolve().parents[3] / "docs" / "mediahub.md"
BEGIN, END = "<!-- BEGIN GENERATED OPTIONS -->", "<!-- END GENERATED OPTIONS -->"
_EXAMPLE = re.compile(r"<!-- example: mediahub -->\n```(yaml|json)\n(.*?)\n```", re.S)
_SCALARS = {int: "integer", str: "string", bool: "boolean", float: "number", Path: "path"}


def _type(ann: Any, field: FieldInfo | None = None) -> str:
    if field is not None and any(getattr(m, "func", None) is parse_size for m in field.metadata):
        return "size"
    origin, args = get_origin(ann), get_args(ann)
    if origin is Annotated:
        return _type(args[0])
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(_type(a) for a in args if a is not type(None)) + " or null"
    if origin is tuple:
        return f"list of {_type(args[0])}"
    if ann is SecretStr:
        return "secret string"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"[{ann.__name__}](#{ann.__name__.lower()})"
    return _SCALARS.get(ann, str(ann))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "see table"
    value = field.default
    if _type(field.annotation, field) == "size" and value % 1024 == 0:
        return f"{value // 1024} KiB"
    if value is None:
        return "null"
    if isinstance(value, tuple):
        return "`[" + ", ".join(map(str, value)) + "]`"
    if isinstance(value, str | Path):
        return f'`"{value}"`'
    return f"`{value}`"


def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = [MediaHubConfig]
    for model in seen:
        for field in model.model_fields.values():
            for ann in (field.annotation, *get_args(field.annotation)):  # X and X | None
                if isinstance(ann, type) and issubclass(ann, BaseModel) and ann not in seen:
                    seen.append(ann)
    return seen


def render_options() -> str:
    out: list[str] = []
    for model in _models():
        out += [f"### {model.__name__}", ""]
        if model.__doc__:
            out += [" ".join(model.__doc__.split()), ""]
        out += ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            desc = (field.description or "").replace("|", "\\|")
            out.append(
                f"| `{name}` | {_type(field.annotation, field)} | {_default(field)} | {desc} |"
            )
        out.append("")
    return "\n".join(out)


def rendered_doc() -> str:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render_options()}{END}{tail}"


def test_settings_tables_are_generated_from_the_models() -> None:
    assert DOC.read_text(encoding="utf-8") == rendered_doc(), (
        "docs/mediahub.md is out of date: run "
        ".venv/bin/python tests/unit/mediahub/test_mediahub_docs.py"
    )


def test_every_setting_has_a_description() -> None:
    for model in _models():
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


EXAMPLES = [
    pytest.param(lang, body, id=f"mediahub.md:{m.start()}")
    for m in _EXAMPLE.finditer(DOC.read_text(encoding="utf-8"))
    for lang, body in [m.groups()]
]


def test_the_page_has_settings_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize(("language", "body"), EXAMPLES)
def test_settings_examples_load(language: str, body: str) -> None:
    data = json.loads(body) if language == "json" else yaml.safe_load(body)
    assert isinstance(mediahub_config(data, "docs/mediahub.md"), MediaHubConfig)


if __name__ == "__main__":
    DOC.write_text(rendered_doc(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
