"""Prompt caching with Strands Agents on AWS Bedrock: approaches, exact usage, pricing, reports and the doctor.

Everything runs offline on `caching.emulator` by default; `connect(settings)` with `--live` goes to real Bedrock.
The public names are listed once, in `__init__.pyi`; each loads on first use (lazy_loader reads that list), so
`import caching.rules` or `caching.planner` does not pull in Strands or boto3.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
