"""Render a kustomization offline, without kubectl or kustomize, for tests and reviews.

Understands only the subset deploy/k8s uses — `resources` (files and directories), `namespace`,
`images`, and `patches` given by `path` holding one strategic-merge patch of maps — and
refuses anything else, so what it renders is what `kubectl kustomize` renders (up to ordering).

    python deploy/k8s/render.py deploy/k8s/overlays/production
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

Document = dict[str, Any]

SUPPORTED_KEYS = frozenset({"apiVersion", "kind", "resources", "namespace", "images", "patches"})
CLUSTER_SCOPED_KINDS = frozenset(
    {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "StorageClass"}
)


class UnsupportedKustomization(ValueError):
    """Raised when a kustomization uses a feature this renderer does not implement."""


def render(directory: Path) -> list[Document]:
    """Return the documents the kustomization in `directory` produces."""
    kustomization = _load_one(directory / "kustomization.yaml")
    unsupported = set(kustomization) - SUPPORTED_KEYS
    if unsupported:
        raise UnsupportedKustomization(f"{directory}: unsupported kustomization keys {sorted(unsupported)}")
    documents: list[Document] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        documents.extend(render(path) if path.is_dir() else _load_all(path))
    for patch in kustomization.get("patches", []):
        _apply_patch(documents, directory, patch)
    if "namespace" in kustomization:
        for document in documents:
            if document["kind"] not in CLUSTER_SCOPED_KINDS:
                document["metadata"]["namespace"] = kustomization["namespace"]
    for image in kustomization.get("images", []):
        for document in documents:
            _retag(document, image)
    return documents


def _load_one(path: Path) -> Document:
    """Load a YAML file that must hold exactly one mapping."""
    documents = _load_all(path)
    if len(documents) != 1:
        raise UnsupportedKustomization(f"{path}: expected one document, found {len(documents)}")
    return documents[0]


def _load_all(path: Path) -> list[Document]:
    """Load every non-empty document of a YAML file."""
    with path.open(encoding="utf-8") as stream:
        return [document for document in yaml.safe_load_all(stream) if document]


def _apply_patch(documents: list[Document], directory: Path, entry: Document) -> None:
    """Apply a strategic-merge patch (`patches: - path: …`) to the one document it names."""
    if set(entry) != {"path"}:
        raise UnsupportedKustomization(f"{directory}: only `patches: - path: …` is supported, got {entry}")
    patch = _load_one(directory / entry["path"])
    key = (patch["apiVersion"], patch["kind"], patch["metadata"]["name"])
    targets = [d for d in documents if (d["apiVersion"], d["kind"], d["metadata"]["name"]) == key]
    if len(targets) != 1:
        raise UnsupportedKustomization(f"{entry['path']}: patch matches {len(targets)} resources, expected 1")
    body = {field: value for field, value in patch.items() if field not in ("apiVersion", "kind")}
    _merge(targets[0], body, where=entry["path"])


def _merge(target: Document, patch: Document, where: str) -> None:
    """Merge `patch` into `target` as a strategic merge does for maps: null deletes a key."""
    for field, value in patch.items():
        if isinstance(value, list):
            raise UnsupportedKustomization(f"{where}: lists in patches ({field}) need kustomize's merge keys")
        if value is None:
            target.pop(field, None)
        elif isinstance(value, dict) and isinstance(target.get(field), dict):
            _merge(target[field], value, where)
        else:
            target[field] = copy.deepcopy(value)


def _retag(node: Any, image: Document) -> None:
    """Apply one `images:` entry to every container and init container under `node`."""
    if isinstance(node, list):
        for item in node:
            _retag(item, image)
        return
    if not isinstance(node, dict):
        return
    for field in ("containers", "initContainers"):
        for container in node.get(field) or []:
            name, tag = _split_image(container["image"])
            if name == image["name"]:
                new_name = image.get("newName", name)
                if "digest" in image:
                    container["image"] = f"{new_name}@{image['digest']}"
                else:
                    new_tag = image.get("newTag", tag)
                    container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name
    for key, value in node.items():
        if key not in ("containers", "initContainers"):
            _retag(value, image)


def _split_image(reference: str) -> tuple[str, str | None]:
    """Split `registry:port/name:tag` into name and tag (a digest counts as no tag)."""
    reference = reference.split("@", 1)[0]
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, None


def main(argv: list[str] | None = None) -> int:
    """Print the rendered documents of the kustomization directory given as argument."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: render.py KUSTOMIZATION_DIR", file=sys.stderr)
        return 2
    yaml.safe_dump_all(render(Path(args[0])), sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
