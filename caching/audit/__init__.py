"""Audit real traffic: Bedrock model invocation logs read into hit rate, waste, miss causes and a what-if."""

from .audit import Audit, AuditResult, audit
from .report import as_json, render
from .sources import read

__all__ = ["Audit", "AuditResult", "as_json", "audit", "read", "render"]
