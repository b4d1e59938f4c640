"""The other packages' screens that the examples print, named for the lab: the audit's report."""

from ..audit.report import render as audit_report

__all__ = ["audit_report"]
