"""The wiring layer: one module per rule file (``workflow/rules/<stage>.smk``), one function
per rule, named exactly as the rule. Each function turns the plain values a rule (or the
CLI) gives into the library's settings objects, calls the library, and writes the outputs
atomically. No numerical work happens here.
"""

__all__ = [
    "common",
    "comparison",
    "focus",
    "ingest",
    "report",
    "restore",
    "segment",
    "synthetic",
    "training",
]
