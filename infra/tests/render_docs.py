"""terraform-docs-style tables for a Terraform directory, without terraform-docs.

    python infra/tests/render_docs.py            # rewrite the tables in place
    python infra/tests/render_docs.py --check    # exit 1 if a README is stale

Each README.md keeps its tables between <!-- BEGIN_TF_DOCS --> and
<!-- END_TF_DOCS -->; everything else in it is hand-written. The layout follows
terraform-docs' markdown table format (requirements, resources, inputs sorted by
name, outputs sorted by name). test_consistency.py fails when a table no longer
matches variables.tf / outputs.tf.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tfsource import INFRA, block_body, blocks, dedent_expression, parse, raw_attribute, unquote  # noqa: E402

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
DOC_DIRS = [INFRA, INFRA / "examples" / "minimal", INFRA / "examples" / "complete"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _code(expr: str) -> str:
    expr = dedent_expression(expr.strip())
    if "\n" in expr:
        return "<pre>" + expr.replace("|", "\\|").replace("\n", "<br/>") + "</pre>"
    return f"`{expr}`"


def _anchor(kind: str, name: str) -> str:
    escaped = name.replace("_", "\\_")
    return f'<a name="{kind}_{name}"></a> [{name}](#{kind}\\_{escaped})'


def _tf_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.tf"))


def render_requirements(directory: Path) -> list[str]:
    lines = ["## Requirements", "", "| Name | Version |", "|------|---------|"]
    for path in _tf_files(directory):
        for terraform in parse(path).get("terraform", []):
            if "required_version" in terraform:
                lines.append(f'| <a name="requirement_terraform"></a> [terraform](#requirement\\_terraform) | {unquote(terraform["required_version"])} |')
            for providers in terraform.get("required_providers", []):
                for name, spec in sorted(providers.items()):
                    if name.startswith("__"):
                        continue
                    lines.append(f'| <a name="requirement_{name}"></a> [{name}](#requirement\\_{name}) | {unquote(spec["version"])} |')
    return lines


def render_modules_and_resources(directory: Path) -> list[str]:
    out: list[str] = []
    modules = []
    for path in _tf_files(directory):
        for entry in parse(path).get("module", []):
            for name, body in entry.items():
                modules.append((unquote(name), unquote(body["source"])))
    if modules:
        out += ["## Modules", "", "| Name | Source |", "|------|--------|"]
        out += [f'| <a name="module_{n}"></a> [{n}](#module\\_{n}) | {s} |' for n, s in sorted(modules)]
        out.append("")
    resources = []
    for kind, label in (("resource", "resource"), ("data", "data source")):
        files = _tf_files(directory)
        for _, full, _ in blocks(kind, files):
            rtype, name = full.split(".", 1)
            short = rtype.removeprefix("aws_")
            section = "resources" if kind == "resource" else "data-sources"
            prefix = "data." if kind == "data" else ""
            resources.append(
                f"| [{prefix}{rtype}.{name}](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/{section}/{short}) | {label} |"
            )
    out += ["## Resources", "", "| Name | Type |", "|------|------|"]
    out += sorted(set(resources)) if resources else ["| none | |"]
    return out


def variables(directory: Path) -> dict[str, dict[str, str | None]]:
    """name -> {description, type, default (raw text or None)} for one directory."""
    found: dict[str, dict[str, str | None]] = {}
    for path in _tf_files(directory):
        text = path.read_text(encoding="utf-8")
        for _, name, body in blocks("variable", [path]):
            raw = block_body(text, rf'variable\s+"{re.escape(name)}"\s*\{{')
            found[name] = {
                "description": unquote(body.get("description", '""')),
                "type": raw_attribute(raw, "type") if raw else None,
                "default": raw_attribute(raw, "default") if raw else None,
            }
    return found


def outputs(directory: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in _tf_files(directory):
        for _, name, body in blocks("output", [path]):
            found[name] = unquote(body.get("description", '""'))
    return found


def render_inputs(directory: Path) -> list[str]:
    lines = ["## Inputs", ""]
    variables_found = variables(directory)
    if not variables_found:
        return lines + ["No inputs."]
    lines += ["| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"]
    for name in sorted(variables_found):
        v = variables_found[name]
        default = v["default"]
        lines.append(
            "| {anchor} | {desc} | {type} | {default} | {required} |".format(
                anchor=_anchor("input", name),
                desc=_cell(v["description"] or ""),
                type=_code(v["type"] or "any"),
                default="n/a" if default is None else _code(default),
                required="yes" if default is None else "no",
            )
        )
    return lines


def render_outputs(directory: Path) -> list[str]:
    lines = ["## Outputs", ""]
    found = outputs(directory)
    if not found:
        return lines + ["No outputs."]
    lines += ["| Name | Description |", "|------|-------------|"]
    lines += [f"| {_anchor('output', n)} | {_cell(found[n])} |" for n in sorted(found)]
    return lines


def render(directory: Path) -> str:
    sections = [
        render_requirements(directory),
        render_modules_and_resources(directory),
        render_inputs(directory),
        render_outputs(directory),
    ]
    return "\n\n".join("\n".join(s) for s in sections) + "\n"


def readme_section(readme: Path) -> str | None:
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(directory: Path) -> None:
    readme = directory / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{render(directory)}{END}{tail}", encoding="utf-8")


def main(argv: list[str]) -> int:
    stale = []
    for directory in DOC_DIRS:
        readme = directory / "README.md"
        if "--check" in argv:
            if readme_section(readme) != render(directory):
                stale.append(str(readme.relative_to(INFRA.parent)))
        else:
            write(directory)
    if stale:
        print("stale tables (run python infra/tests/render_docs.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
