"""Renders the configuration reference (docs/CONFIGURATION.md) from the pydantic models.

The descriptions, defaults and bounds in the code are the single source; a test fails when the
committed page drifts from them. Regenerate with `carewatch config-docs > docs/CONFIGURATION.md`.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel

from api.config import AppConfig, default_config_text

_BOUNDS: dict[type, tuple[str, str]] = {
    Gt: ("gt", ">"),
    Ge: ("ge", ">="),
    Lt: ("lt", "<"),
    Le: ("le", "<="),
    MinLen: ("min_length", "at least"),
    MaxLen: ("max_length", "at most"),
}


def _bounds(metadata: list[Any]) -> str:
    parts = []
    for item in metadata:
        for kind, (attr, sign) in _BOUNDS.items():
            if isinstance(item, kind):
                parts.append(f"{sign} {getattr(item, attr)}")
    return ", ".join(parts)


def _nested(annotation: Any) -> list[type[BaseModel]]:
    """The models inside `annotation` (itself, a container's items, each member of a union)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        for model in _nested(arg):
            if model not in found:
                found.append(model)
    return found


def _section(model: type[BaseModel], prefix: str, out: list[str]) -> None:
    out += [f"### `{prefix or 'top level'}`", "", (model.__doc__ or "").strip(), ""]
    out += ["| key | default | allowed | description |", "|---|---|---|---|"]
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        subs = _nested(field.annotation)
        key = f"{prefix}.{name}" if prefix else name
        for sub in subs:
            container = "" if sub is field.annotation else "[]"
            if get_origin(field.annotation) is dict:
                container = ".<name>"
            shown = key + container
            type_field = sub.model_fields.get("type")
            if len(subs) > 1 and type_field is not None:
                shown += f" (type: {type_field.get_default()})"
            nested.append((shown, sub))
        if field.is_required():
            default = "required"
        elif subs:
            default = "see below"
        else:
            default = repr(field.get_default(call_default_factory=True))
        desc = (field.description or "").replace("|", "\\|")
        out.append(f"| `{name}` | `{default}` | {_bounds(field.metadata)} | {desc} |")
    out.append("")
    for key, sub in nested:
        _section(sub, key, out)


def config_reference_markdown() -> str:
    out = [
        "# Configuration reference",
        "",
        "CareWatch reads one YAML file (`carewatch run --config FILE`); without one it uses the",
        "embedded defaults below. Unknown keys and out-of-range values stop start-up with a",
        "message naming the file, the key and what is allowed. Generated from the code by",
        "`carewatch config-docs`; a test keeps this page in step with it.",
        "",
        "## Embedded defaults (`configs/default.yaml`)",
        "",
        "```yaml",
        default_config_text().rstrip(),
        "```",
        "",
        "## Every key",
        "",
    ]
    _section(AppConfig, "", out)
    return "\n".join(out).rstrip() + "\n"
