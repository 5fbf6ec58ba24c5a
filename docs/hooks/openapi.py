"""mkdocs hook: the API reference page is generated from the live OpenAPI schema.

At build time `manage.py spectacular` writes the schema of the code being documented (so the
reference cannot drift from the API); the page `api.md` gets one section per operation
(method, path, summary, parameters, request and response bodies) in place of the
`<!-- openapi -->` marker, and the schema itself is published as `api/openapi.yaml`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from mkdocs.structure.files import File

REPO = Path(__file__).resolve().parents[2]
MARKER = "<!-- openapi -->"
_schema: dict = {}
_schema_text = ""


def on_config(config):
    global _schema, _schema_text
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "openapi.yaml"
        subprocess.run(
            [sys.executable, "manage.py", "spectacular", "--validate", "--file", str(target)],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        )
        _schema_text = target.read_text()
    _schema = yaml.safe_load(_schema_text)
    return config


def on_files(files, config):
    files.append(File.generated(config, "api/openapi.yaml", content=_schema_text))
    return files


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render(_schema))


def _ref_name(schema: dict | None) -> str:
    if not schema:
        return "—"
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if schema.get("type") == "array":
        return f"list of {_ref_name(schema.get('items'))}"
    return f"`{schema.get('type', 'object')}`"


def _body(content: dict | None) -> str:
    if not content:
        return "—"
    media = content.get("application/json") or next(iter(content.values()))
    return _ref_name(media.get("schema"))


def render(schema: dict) -> str:
    """Markdown for every operation, grouped by path, then the component schemas' fields."""
    info = schema.get("info", {})
    lines = [f"Schema version {info.get('version', '?')}, OpenAPI {schema.get('openapi')}.", ""]
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            lines += [f"### `{method.upper()} {path}`", ""]
            summary = (op.get("description") or op.get("summary") or "").strip()
            if summary:
                lines += [summary, ""]
            params = op.get("parameters") or []
            if params:
                lines += ["| parameter | in | type | description |", "| --- | --- | --- | --- |"]
                for p in params:
                    desc = (p.get("description") or "").replace("\n", " ").replace("|", "\\|")
                    lines.append(
                        f"| `{p['name']}` | {p['in']} | {_ref_name(p.get('schema'))} | {desc} |"
                    )
                lines.append("")
            body = op.get("requestBody", {}).get("content")
            if body:
                lines += [f"Request body: {_body(body)}", ""]
            lines += ["| response | body |", "| --- | --- |"]
            for code, response in (op.get("responses") or {}).items():
                lines.append(f"| {code} | {_body(response.get('content'))} |")
            lines.append("")
    lines += ["## Schemas", ""]
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        props = component.get("properties") or {}
        if not props:
            continue
        required = set(component.get("required") or [])
        lines += [
            f"### `{name}`",
            "",
            "| field | type | required | read-only |",
            "| --- | --- | --- | --- |",
        ]
        for field, spec in props.items():
            lines.append(
                f"| `{field}` | {_ref_name(spec)} | {'yes' if field in required else ''} "
                f"| {'yes' if spec.get('readOnly') else ''} |"
            )
        lines.append("")
    return "\n".join(lines)
