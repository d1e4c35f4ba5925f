"""Configuration examples in docs/*.md are loaded by the real config loader, so they cannot rot.

Mark a fenced block by putting an HTML comment on the line before it:

- ``<!-- example: config -->``: a whole config file (YAML or JSON);
- ``<!-- example: distribution -->``: DistributionConfig keys, laid over a minimal distribution
  (so an example may show only the keys it is about);
- ``<!-- example: edge -->``: the mapping under ``edge:``, checked with a minimal distribution.

Unmarked blocks (fragments, shell sessions) are not checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from openfront.config import parse_config

DOCS = Path(__file__).resolve().parents[2] / "docs"
_MARKED = re.compile(
    r"<!-- example: (config|distribution|edge) -->\n```(yaml|json)[^\n]*\n(.*?)\n```", re.S
)
_MINIMAL_DISTRIBUTION: dict[str, Any] = {
    "Origins": [{"Id": "o", "DomainName": "origin.example.com"}],
    "DefaultCacheBehavior": {"TargetOriginId": "o"},
}


def _examples() -> list[Any]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in _MARKED.finditer(text):
            kind, language, body = match.groups()
            line = text.count("\n", 0, match.start()) + 1
            found.append(pytest.param(kind, language, body, id=f"{page.name}:{line}"))
    return found


EXAMPLES = _examples()


def test_the_docs_have_marked_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize(("kind", "language", "body"), EXAMPLES)
def test_docs_example_loads(kind: str, language: str, body: str) -> None:
    data = json.loads(body) if language == "json" else yaml.safe_load(body)
    if kind == "distribution":
        dist = {"Id": "EDOCEXAMPLE", "DistributionConfig": {**_MINIMAL_DISTRIBUTION, **data}}
        data = {"distributions": [dist]}
    elif kind == "edge":
        dist = {"Id": "EDOCEXAMPLE", "DistributionConfig": _MINIMAL_DISTRIBUTION}
        data = {"edge": data, "distributions": [dist]}
    parse_config(data, "docs example")
