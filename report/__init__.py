"""Report of a results directory: measured fine-tuning answers beside the guideline table."""

from report.build import build_report

__all__ = ["build_report"]
