"""Figures and the summary page (drawing only: every number comes in computed).

``focus``, ``training``, ``segmentation`` and ``models`` draw each stage's figures,
``summary_page`` writes the standalone HTML page, ``style`` holds the shared look.
"""

__all__ = ["focus", "inspect", "models", "segmentation", "style", "summary_page", "training"]
