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
    ax.set_ylim(0, 1.25)  # room for the legend above the bars
    ax.legend(fontsize=8, loc="upper center", ncol=2)
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


def metrics_by_offset(table: pd.DataFrame):
    """Four panels from :func:`platefocus.compare.offsets.offset_table`: PSNR, SSIM,
    segmentation F1 and count error against the signed offset from focus (um), one line
    per model, the input in black; offsets the training pairs held are marked on the
    axis (a model is only tested on the others)."""
    from platefocus.compare.offsets import INPUT, METRICS

    labels = {
        "psnr": "PSNR (dB)",
        "ssim": "SSIM",
        "f1": "segmentation F1 (IoU > 0.5)",
        "count_error": "count error |n - truth| / truth",
    }
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True)
    trained = sorted(table.loc[table["in_training"], "dz_um"].unique())
    models = [m for m in dict.fromkeys(table["model"]) if m != INPUT]
    for ax, metric in zip(axes.flat, METRICS, strict=True):
        rows = table[table["model"] == INPUT].sort_values("dz_um")
        ax.plot(rows["dz_um"], rows[metric], "k-o", ms=3, label=INPUT)
        for i, model in enumerate(models):
            rows = table[table["model"] == model].sort_values("dz_um")
            ax.plot(rows["dz_um"], rows[metric], "-o", ms=3, color=f"C{i}", label=model)
        if len(trained) < len(table["dz_um"].unique()) - 1:
            ax.plot(
                trained,
                [0] * len(trained),
                "^",
                color="0.4",
                ms=7,
                clip_on=False,
                transform=ax.get_xaxis_transform(),
                label="offsets in training",
            )
        ax.axvline(0, color="0.7", lw=0.8)
        ax.set_ylabel(labels[metric])
        ax.set_title(labels[metric].split(" (")[0] + " of held-out fields", fontsize=10)
    for ax in axes[1]:
        ax.set_xlabel("offset from best focus (um; > 0: higher planes)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def restored_examples(examples: list[dict]):
    """One row per example plane: the input, every model's restoration and the in-focus
    truth, on the truth's intensity scale.

    Each example holds ``title``, ``input`` and ``truth`` (Y, X) images and ``models``, a
    dict of model name -> restored (Y, X) image.
    """
    import numpy as np

    from platefocus.dataset.normalise import percentile_range

    names = list(examples[0]["models"])
    columns = ["input", *names, "truth"]
    fig, axes = plt.subplots(
        len(examples),
        len(columns),
        figsize=(2.6 * len(columns), 2.8 * len(examples)),
        squeeze=False,
    )
    for row, example in zip(axes, examples, strict=True):
        lo, hi = percentile_range(example["truth"])
        images = {"input": example["input"], **example["models"], "truth": example["truth"]}
        for ax, name in zip(row, columns, strict=True):
            ax.imshow(np.clip((images[name].astype(float) - lo) / (hi - lo), 0, 1), cmap="gray")
            ax.set_title(name if name != "truth" else "in focus (truth)", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(example["title"], fontsize=9)
    fig.tight_layout()
    return fig
