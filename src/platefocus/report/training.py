"""Training figures: loss curves, and PSNR/SSIM against defocus before and after."""

from __future__ import annotations

import pandas as pd

from platefocus.report.style import plt


def training_curves(histories: dict[str, pd.DataFrame]):
    """Training and validation loss per epoch, one colour per model."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for i, (name, h) in enumerate(histories.items()):
        ax.plot(h["epoch"], h["train_loss"], color=f"C{i}", label=f"{name} train")
        ax.plot(h["epoch"], h["val_loss"], color=f"C{i}", ls="--", label=f"{name} validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.set_title("Training curves", fontsize=10)
    fig.tight_layout()
    return fig


def metrics_by_dz(summaries: dict[str, pd.DataFrame]):
    """PSNR and SSIM against |dz| for the input (identity) and each model, by side."""
    fig, axes = plt.subplots(1, 2, figsize=(14, 3.8))
    for ax, metric in zip(axes, ("psnr", "ssim"), strict=True):
        first = next(iter(summaries.values()))
        both = first[first["side"] == "both"]
        ax.plot(both["abs_dz"], both[f"{metric}_input"], "k-o", label="input (no restoration)")
        for i, (name, s) in enumerate(summaries.items()):
            for side, style in (("both", "-o"), ("above", ":^"), ("below", ":v")):
                part = s[s["side"] == side]
                if len(part):
                    ax.plot(
                        part["abs_dz"],
                        part[f"{metric}_pred"],
                        style,
                        color=f"C{i}",
                        label=f"{name} ({side})" if side != "both" else name,
                        alpha=1.0 if side == "both" else 0.6,
                    )
        ax.set_xlabel("|dz| (planes from best focus)")
        ax.set_ylabel(metric.upper())
        ax.set_title(f"{metric.upper()} against the in-focus plane, test wells", fontsize=10)
    # beside the plots, not over the curves (three entries per model)
    handles, labels = axes[1].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0, 0.72, 1))
    fig.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(0.72, 0.5))
    return fig
