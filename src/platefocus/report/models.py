"""The model comparison figure: quality against defocus, segmentation, and cost."""

from __future__ import annotations

import pandas as pd

from platefocus.report.style import plt


def model_comparison(table: pd.DataFrame):
    """Four panels from :func:`platefocus.compare.models.compare_models`' table: PSNR
    and SSIM against |dz| (input in black), segmentation F1 and count error, and PSNR at
    the middle |dz| against inference speed (marker area ~ parameters)."""
    dzs = sorted(int(c[len("psnr_dz") :]) for c in table.columns if c.startswith("psnr_dz"))
    models = table[~table["model"].str.startswith("input")]
    baseline = table[table["model"].str.startswith("input")].iloc[0]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for ax, metric in zip(axes[0], ("psnr", "ssim"), strict=True):
        ax.plot(dzs, [baseline[f"{metric}_dz{d}"] for d in dzs], "k-o", label=baseline["model"])
        for i, row in enumerate(models.itertuples()):
            ax.plot(
                dzs,
                [getattr(row, f"{metric}_dz{d}") for d in dzs],
                "-o",
                color=f"C{i}",
                label=row.model,
            )
        ax.set_xlabel("|dz| (planes from best focus)")
        ax.set_ylabel(metric.upper())
        ax.set_title(f"{metric.upper()} of held-out pairs", fontsize=10)
    axes[0, 1].legend(fontsize=8)
    ax = axes[1, 0]
    names = [*models["model"], "input"]
    x = range(len(names))
    f1 = [*models["seg_f1"], baseline["seg_f1"]]
    err = [*models["count_error"], baseline["count_error"]]
    ax.bar([i - 0.2 for i in x], f1, width=0.4, label="F1 (IoU > 0.5)", color="C2")
    ax.bar(
        [i + 0.2 for i in x], err, width=0.4, label="count error |n - truth| / truth", color="C3"
    )
    ax.set_xticks(list(x), names, rotation=20, fontsize=8)
    ax.set_title("Segmentation after restoring whole fields", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    mid = dzs[len(dzs) // 2]
    for i, row in enumerate(models.itertuples()):
        ax.scatter(
            row.infer_mpix_per_s,
            getattr(row, f"psnr_dz{mid}"),
            color=f"C{i}",
            s=20 + row.parameters / 5000,
            label=row.model,
        )
        ax.annotate(
            row.model,
            (row.infer_mpix_per_s, getattr(row, f"psnr_dz{mid}")),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.axhline(baseline[f"psnr_dz{mid}"], color="k", ls=":", label="input")
    ax.set_xlabel("inference Mpix/s (CPU, tiled)")
    ax.set_ylabel(f"PSNR at |dz| = {mid}")
    ax.set_title("Quality against speed (marker area ~ parameters)", fontsize=10)
    fig.tight_layout()
    return fig
