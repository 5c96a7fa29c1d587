# The standalone summary page of a plate: headline numbers, figures, tables, config.


rule summary_page:
    input:
        unpack(summary_page_inputs),
    output:
        report(
            "results/{plate}/summary.html",
            caption="../report/summary_page.rst",
            category="0. Summary",
        ),
    log:
        "logs/summary_page/{plate}.log",
    localrule: True
    conda:
        "../envs/platefocus.yaml"
    params:
        config=result_config(),
    script:
        "../scripts/summary_page.py"
