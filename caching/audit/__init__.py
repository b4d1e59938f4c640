"""Audit real traffic: Bedrock model invocation logs read into hit rate, waste, miss causes and a what-if."""

from .audit import Audit, AuditResult, audit
from .report import as_json, render
from .sources import read

__all__ = ["Audit", "AuditResult", "as_json", "audit", "audit_logs", "read", "render"]


def audit_logs(paths: list[str], show_text: bool = False) -> AuditResult:
    """Audit the invocation logs in these files and folders (`caching audit` also reads s3:// locations)."""
    return audit(read(paths), show_text)
