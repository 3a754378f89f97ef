"""Report of a results directory: measured fine-tuning answers beside the guideline table."""

from report.build import build_report, check_report_folder

__all__ = ["build_report", "check_report_folder"]
