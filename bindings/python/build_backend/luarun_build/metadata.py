"""Core metadata (``METADATA`` in the wheel, ``PKG-INFO`` in the sdist) from
``pyproject.toml``'s ``[project]`` table, with the version from Cargo.toml."""

from __future__ import annotations

from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: pyproject.toml's build requirements
    import tomli as tomllib

#: The ``[project]`` keys this backend writes; any other is an error, never dropped.
SUPPORTED_KEYS = frozenset({
    "name", "dynamic", "description", "readme", "license", "requires-python",
    "classifiers", "dependencies", "optional-dependencies",
})
_README_TYPES = {".md": "text/markdown", ".rst": "text/x-rst"}


def project_table(project_dir: Path) -> dict:
    """``[project]`` of ``project_dir/pyproject.toml``, checked for keys we cannot write."""
    with open(project_dir / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    unsupported = sorted(set(project) - SUPPORTED_KEYS)
    if unsupported:
        raise ValueError(
            f"pyproject.toml [project] has {', '.join(unsupported)}, which the in-tree "
            f"backend does not write: add it to {__file__}"
        )
    if project.get("dynamic", []) != ["version"]:
        raise ValueError('pyproject.toml needs dynamic = ["version"]: it comes from Cargo.toml')
    return project


def _extra_requirement(requirement: str, extra: str) -> str:
    if ";" in requirement:
        spec, marker = requirement.split(";", 1)
        return f'{spec.strip()}; ({marker.strip()}) and extra == "{extra}"'
    return f'{requirement}; extra == "{extra}"'


def core_metadata(project_dir: Path, version: str) -> str:
    """The text of ``METADATA`` / ``PKG-INFO`` (metadata version 2.1)."""
    project = project_table(project_dir)
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {version}",
    ]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "license" in project:
        lines.append(f"License: {project['license']['text']}")
    lines += [f"Classifier: {classifier}" for classifier in project.get("classifiers", [])]
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f"Requires-Dist: {_extra_requirement(r, extra)}" for r in requirements]
    description = ""
    if "readme" in project:
        readme = project_dir / project["readme"]
        content_type = _README_TYPES.get(readme.suffix.lower(), "text/plain")
        lines.append(f"Description-Content-Type: {content_type}")
        description = readme.read_text(encoding="utf-8")
    return "\n".join(lines) + "\n\n" + description
