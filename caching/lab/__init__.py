"""The lab's own screens: tables and reports, the example runner, and the chat team of main.py.

Examples import their helpers from here (`from caching.lab import lesson, calls_table`); the names are listed once,
in `__init__.pyi`, and each loads on first use, so the planner and the audit can use the tables without Strands.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
