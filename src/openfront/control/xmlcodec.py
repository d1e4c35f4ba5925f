"""CloudFront's rest-xml bodies, driven by the service model's shapes.

``parse_xml`` is a small expat tree builder that refuses DTDs and entities (no billion laughs, no
external entities) and bounds depth and element count. ``decode`` turns a tree into the plain
dict botocore would have sent; ``conform`` shapes any dict into what the model declares (lists
become ``{Quantity, Items}``, unknown keys go); ``encode`` writes a conformed dict as XML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape

from openfront.control.awsmodel import NAMESPACE, shape

MAX_DEPTH = 40
MAX_ELEMENTS = 200_000
_INT = re.compile(r"^[+-]?[0-9]{1,19}$")


class XmlError(ValueError):
    """The body is not well-formed XML, or not the shape the operation takes (MalformedInput)."""


@dataclass(slots=True)
class Element:
    tag: str
    children: list[Element] = field(default_factory=list)
    text: str = ""


def _refuse(what: str) -> Any:
    def handler(*_: object) -> None:
        raise XmlError(f"{what} are not allowed")

    return handler


def parse_xml(body: bytes) -> Element:
    """Parse ``body`` into an Element tree; tags lose the CloudFront namespace."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse("DTDs")
    parser.EntityDeclHandler = _refuse("entity declarations")
    parser.UnparsedEntityDeclHandler = _refuse("entity declarations")
    parser.ExternalEntityRefHandler = _refuse("external entities")
    parser.buffer_text = True
    stack: list[Element] = []
    root: list[Element] = []
    count = 0

    def start(name: str, _attrs: object) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS or len(stack) >= MAX_DEPTH:
            raise XmlError("the document is too large or too deeply nested")
        uri, _, local = name.rpartition(" ")
        if uri and uri != NAMESPACE:
            raise XmlError(f"element <{local}> is in namespace {uri!r}, expected {NAMESPACE!r}")
        element = Element(local)
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(_name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise XmlError(
            f"the body is not well-formed XML: {expat.errors.messages[exc.code]}"
        ) from None
    return root[0]


# --- XML -> dict ---------------------------------------------------------------------------------


def _body_members(sh: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """XML element name -> (member name, member shape), for members carried in the body."""
    return {
        m.get("locationName", name): (name, m["shape"])
        for name, m in sh["members"].items()
        if "location" not in m
    }


def decode(element: Element, shape_name: str) -> Any:
    """The value of ``element`` read as ``shape_name``; XmlError when it does not fit."""
    sh = shape(shape_name)
    kind = sh["type"]
    if kind == "structure":
        _no_text(element)
        members = _body_members(sh)
        out: dict[str, Any] = {}
        for child in element.children:
            if child.tag not in members:
                raise XmlError(f"unexpected element <{child.tag}> in <{element.tag}>")
            name, member_shape = members[child.tag]
            if name in out:
                raise XmlError(f"element <{child.tag}> is given twice in <{element.tag}>")
            out[name] = decode(child, member_shape)
        for name in sh.get("required", ()):
            if name not in out:
                tag = sh["members"][name].get("locationName", name)
                raise XmlError(f"<{element.tag}> needs a <{tag}> element")
        return out
    if kind == "list":
        _no_text(element)
        member = sh["member"]
        tag = member.get("locationName", "member")
        items = []
        for child in element.children:
            if child.tag != tag:
                raise XmlError(f"<{element.tag}> takes <{tag}> elements, not <{child.tag}>")
            items.append(decode(child, member["shape"]))
        return items
    if element.children:
        raise XmlError(f"<{element.tag}> takes a value, not elements")
    return _scalar(element.text, kind, element.tag)


def _no_text(element: Element) -> None:
    if element.text.strip():
        raise XmlError(f"<{element.tag}> takes elements, not text")


def _scalar(text: str, kind: str, tag: str) -> Any:
    if kind in ("integer", "long"):
        if not _INT.match(text.strip()):
            raise XmlError(f"<{tag}> must be an integer (got {text[:40]!r})")
        return int(text)
    if kind == "boolean":
        value = text.strip()
        if value not in ("true", "false"):
            raise XmlError(f"<{tag}> must be true or false (got {text[:40]!r})")
        return value == "true"
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise XmlError(f"<{tag}> must be a number (got {text[:40]!r})") from None
    if kind == "timestamp":
        try:
            return datetime.fromisoformat(text.strip())
        except ValueError:
            raise XmlError(f"<{tag}> must be an ISO 8601 time (got {text[:40]!r})") from None
    return text


def decode_document(body: bytes, shape_name: str, root_tag: str) -> Any:
    """Parse and decode a request body whose root element must be ``root_tag``."""
    root = parse_xml(body)
    if root.tag != root_tag:
        raise XmlError(f"the root element must be <{root_tag}>, not <{root.tag}>")
    return decode(root, shape_name)


# --- dict -> conformed dict ---------------------------------------------------------------------


def conform(value: Any, shape_name: str) -> Any:
    """``value`` reshaped to the model: plain lists wrapped as {Quantity, Items}, scalars coerced,
    keys the shape does not have dropped, None dropped."""
    sh = shape(shape_name)
    kind = sh["type"]
    if kind == "structure":
        members = sh["members"]
        if isinstance(value, list | tuple) and "Quantity" in members and "Items" in members:
            value = {"Items": list(value)}
        if not isinstance(value, Mapping):
            return None
        out: dict[str, Any] = {}
        for name, member in members.items():
            if name in value and value[name] is not None:
                conformed = conform(value[name], member["shape"])
                if conformed is not None:
                    out[name] = conformed
        if "Quantity" in members and "Items" in members:
            if "Quantity" not in value:
                out["Quantity"] = len(out.get("Items", ()))
            if out.get("Items") == []:
                del out["Items"]  # as CloudFront writes it, and so as botocore reads it
        return out
    if kind == "list":
        if not isinstance(value, list | tuple):
            return None
        member_shape = sh["member"]["shape"]
        return [c for c in (conform(v, member_shape) for v in value) if c is not None]
    return _coerce(value, kind)


def _coerce(value: Any, kind: str) -> Any:
    if kind in ("integer", "long") and isinstance(value, str) and _INT.match(value):
        return int(value)
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


# --- conformed dict -> XML ----------------------------------------------------------------------


def format_timestamp(value: datetime) -> str:
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _text(value: Any, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp" and isinstance(value, datetime):
        return format_timestamp(value)
    return escape(str(value))


def _encode_into(out: list[str], value: Any, shape_name: str, tag: str) -> None:
    sh = shape(shape_name)
    kind = sh["type"]
    if kind == "structure":
        out.append(f"<{tag}>")
        for name, member in sh["members"].items():
            if "location" in member or value.get(name) is None:
                continue
            child = value[name]
            if name == "Items" and child == [] and "Quantity" in sh["members"]:
                continue  # CloudFront leaves out an empty Items
            _encode_into(out, child, member["shape"], member.get("locationName", name))
        out.append(f"</{tag}>")
    elif kind == "list":
        member = sh["member"]
        inner = member.get("locationName", "member")
        out.append(f"<{tag}>")
        for item in value:
            _encode_into(out, item, member["shape"], inner)
        out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}>{_text(value, kind)}</{tag}>")


def encode(value: Mapping[str, Any], shape_name: str, root_tag: str) -> bytes:
    """The XML document for a conformed ``value`` of ``shape_name``, in CloudFront's namespace."""
    parts: list[str] = []
    _encode_into(parts, value, shape_name, root_tag)
    parts[0] = f'<{root_tag} xmlns="{NAMESPACE}">'
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(parts)).encode()
