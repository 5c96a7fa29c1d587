# platefocus: restore out-of-focus microscopy plates and measure what changed.
from snakemake.utils import min_version, validate

min_version("9.0")


# The demo's configuration is the default run's, and only that: a run given a config of
# its own (--configfile my.yaml) starts from the schema's defaults, so the demo's synthetic
# plate, truth and channel names never leak into a user's run. The Makefile's demo-derived
# targets name config/config.yaml explicitly before their own file.
if not workflow.overwrite_configfiles:

    configfile: f"{workflow.basedir}/config/config.yaml"


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
include: "workflow/rules/consistency.smk"
include: "workflow/rules/report.smk"


# Light rules (merges, figures, pages) say `localrule: True`: they run in the Snakemake
# process itself, not as cluster jobs.
rule all:
    default_target: True
    input:
        all_outputs(),
    localrule: True
