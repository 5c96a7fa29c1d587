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


rule all:
    default_target: True
    input:
        all_outputs(),
