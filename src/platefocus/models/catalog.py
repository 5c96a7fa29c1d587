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


#: Loss terms (:class:`platefocus.train.losses.WeightedLoss`), checked here without torch.
LOSS_TERMS = ("l1", "mse", "ssim", "ms_ssim", "feature", "feature_plate")
#: Keys of a ``training.models`` entry that are not the architecture's arguments.
ENTRY_KEYS = ("architecture", "loss")


#: Architectures that restore with the training plate's defocus operator (its kernels are
#: loaded before training and kept in the weights; a test keeps this equal to the networks
#: that have ``load_operator``).
OPERATOR_ARCHITECTURES = ("ddnm",)
#: What those networks train with instead of ``training.loss`` (as the report names it).
PRIOR_LOSS_LABEL = "diffusion prior: noise MSE"


#: Training settings a ``training.models`` entry may set for itself (over ``training``).
TRAINING_OVERRIDES = ("lr", "weight_decay", "patience", "grad_clip")


def model_entry(name: str, entry: dict | None) -> tuple[str, dict, dict | None]:
    """``(architecture, arguments, loss)`` of the ``training.models`` entry ``name``.

    An entry holds the architecture's keyword arguments, and optionally
    ``architecture`` (default: the entry's name, so one architecture can be trained twice
    under two names), ``loss`` (loss term weights; None: ``training.loss``) and its own
    values of :data:`TRAINING_OVERRIDES` (see :func:`training_overrides`).
    """
    entry = dict(entry or {})
    architecture = str(entry.pop("architecture", name))
    loss = entry.pop("loss", None)
    for key in TRAINING_OVERRIDES:
        entry.pop(key, None)
    return architecture, entry, (dict(loss) if loss is not None else None)


def training_overrides(entry: dict | None) -> dict:
    """The training settings a ``training.models`` entry sets for itself, e.g.
    ``derestormer: {patience: 0}`` (the comparison: see config/comparison.yaml)."""
    return {k: v for k, v in (entry or {}).items() if k in TRAINING_OVERRIDES}


def loss_label(loss: dict) -> str:
    """A loss as people read it: ``"ssim 0.7 + l1 0.1 + mse 0.2"`` (non-zero terms)."""
    return " + ".join(f"{term} {weight:g}" for term, weight in loss.items() if weight)


def check_model_arguments(models: dict[str, dict]) -> None:
    """Raise :class:`~platefocus.errors.InputError` for an unknown architecture or an
    argument it does not take, naming the ``training.models`` key."""
    from platefocus.errors import InputError

    catalog = architecture_arguments()
    for name, entry in models.items():
        architecture, kwargs, loss = model_entry(name, entry)
        if architecture not in catalog:
            raise InputError(
                f"training.models.{name}" if architecture != name else "training.models",
                f"unknown architecture {architecture!r}; registered: {sorted(catalog)}",
            )
        if loss is not None and architecture in OPERATOR_ARCHITECTURES:
            raise InputError(
                f"training.models.{name}.loss",
                f"{architecture} trains a diffusion prior with its own denoising loss "
                f"({PRIOR_LOSS_LABEL}); remove the loss",
            )
        if loss is not None and (
            set(loss) - set(LOSS_TERMS)
            or min(loss.values(), default=0) < 0
            or not any(loss.values())
        ):
            raise InputError(
                f"training.models.{name}.loss",
                f"weights of {list(LOSS_TERMS)}, non-negative, one positive; got {loss}",
            )
        unknown = sorted(set(kwargs) - set(catalog[architecture]))
        if unknown:
            raise InputError(
                f"training.models.{name}",
                f"{architecture} takes no argument {', '.join(map(repr, unknown))}; "
                f"it takes {list(catalog[architecture])} (and {list(ENTRY_KEYS)})",
            )


def uses_operator(name: str, entry: dict | None) -> bool:
    """Whether the ``training.models`` entry ``name`` restores with the defocus operator."""
    return model_entry(name, entry)[0] in OPERATOR_ARCHITECTURES
