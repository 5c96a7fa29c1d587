"""The registered architectures and the keyword arguments each takes, without torch.

The workflow checks ``training.models`` against this catalog when it starts (an unknown
architecture or a misspelled argument is named before hours of training), and Snakefile
parsing must not import torch. So the catalog reads the builders' signatures from the
source of this package (every function decorated with ``@register("name")``); a test keeps
it equal to the live registry.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

#: Arguments every builder takes from the workflow itself, never from ``training.models``.
BUILDER_ARGUMENTS = ("spatial_dims", "in_channels")


def _registered_name(decorator: ast.expr) -> str | None:
    """``"name"`` for a ``@register("name")`` decorator, else None."""
    if (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Name)
        and decorator.func.id == "register"
        and decorator.args
        and isinstance(decorator.args[0], ast.Constant)
    ):
        return str(decorator.args[0].value)
    return None


@cache
def architecture_arguments() -> dict[str, tuple[str, ...]]:
    """Registered name -> the keyword arguments its builder accepts from the config."""
    catalog: dict[str, tuple[str, ...]] = {}
    for path in sorted(Path(__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                name = _registered_name(decorator)
                if name is not None:
                    args = [a.arg for a in (*node.args.args, *node.args.kwonlyargs)]
                    catalog[name] = tuple(a for a in args if a not in BUILDER_ARGUMENTS)
    return catalog


def check_model_arguments(models: dict[str, dict]) -> None:
    """Raise :class:`~platefocus.errors.InputError` for an unknown architecture or an
    argument it does not take, naming the ``training.models`` key."""
    from platefocus.errors import InputError

    catalog = architecture_arguments()
    for name, kwargs in models.items():
        if name not in catalog:
            raise InputError(
                "training.models", f"unknown architecture {name!r}; registered: {sorted(catalog)}"
            )
        unknown = sorted(set(kwargs or {}) - set(catalog[name]))
        if unknown:
            raise InputError(
                f"training.models.{name}",
                f"{name} takes no argument {', '.join(map(repr, unknown))}; "
                f"it takes {list(catalog[name])}",
            )
