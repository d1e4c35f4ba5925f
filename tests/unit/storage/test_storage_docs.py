"""docs/storage.md carries the storage config's option tables, generated from the models.

Regenerate after changing a model: ``.venv/bin/python -m tests.unit.storage.test_storage_docs``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.unit.config.test_config_docs import _default, _is_size, _models, _splice, _type, key_of

from openfront.config.storage import StorageConfig

DOC = Path(__file__).resolve().parents[3] / "docs" / "storage.md"
BEGIN, END = "<!-- BEGIN GENERATED STORAGE OPTIONS -->", "<!-- END GENERATED STORAGE OPTIONS -->"


def render_options() -> str:
    out: list[str] = []
    for model in _models(StorageConfig):
        out += [f"### {model.__name__}", ""]
        if model.__doc__:
            out += [" ".join(model.__doc__.split()), ""]
        out += ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            kind = "size" if _is_size(field) else _type(field.annotation)
            desc = (field.description or "").replace("|", "\\|")
            out.append(f"| `{key_of(name, field)}` | {kind} | {_default(field)} | {desc} |")
        out.append("")
    return "\n".join(out)


def rendered_doc() -> str:
    return _splice(DOC.read_text(encoding="utf-8"), BEGIN, END, render_options())


def test_storage_options_are_generated_from_the_models() -> None:
    assert DOC.read_text(encoding="utf-8") == rendered_doc(), (
        "docs/storage.md is out of date: "
        "run .venv/bin/python -m tests.unit.storage.test_storage_docs"
    )


def test_every_storage_option_has_a_description() -> None:
    for model in _models(StorageConfig):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


if __name__ == "__main__":
    DOC.write_text(rendered_doc(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
