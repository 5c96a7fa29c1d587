"""Figures and pages that explain a run (matplotlib, no numerical logic of their own)."""
