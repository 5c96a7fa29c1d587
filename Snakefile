# platefocus: restore out-of-focus microscopy plates and measure what changed.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


validate(config, "workflow/schemas/config.schema.yaml", set_default=True)


include: "workflow/rules/common.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/focus.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/restore.smk"
include: "workflow/rules/segment.smk"
include: "workflow/rules/comparison.smk"


# Light steps run in the main Snakemake process, not as cluster jobs.
localrules:
    all,
    merge_focus,
    focus_accuracy,
    plot_focus,
    plot_focus_accuracy,
    plot_training,
    restore_plate,
    summarise_segmentation,
    plot_comparison,
    summary_page,
    compare_all_models,


rule all:
    default_target: True
    input:
        all_outputs(),
