"""``manage.py s3doctor``: a live probe of one configured storage.

- ``probes``: ``Doctor`` and its table of probes (``PROBES``);
- ``region``, ``cors``: the region and CORS findings;
- ``capabilities``: with ``--write``, what the server honours (``behaviour``);
- ``report``: ``Finding``, ``Report``, the statuses, ``mask``;
- ``network``: plain HTTP as a browser sends it, and why nothing answers;
- ``fixes``: the CORS rules and bucket policy printed as fixes.
"""

from . import capabilities, cors, region
from .fixes import cors_rule, merged_cors, origin_error, public_read_policy, upload_rule
from .network import connection_cause, fetch, preflight
from .probes import PROBES, Doctor, Probe
from .report import FAIL, OK, SKIP, WARN, Finding, Report, mask

__all__ = [
    "FAIL",
    "OK",
    "PROBES",
    "SKIP",
    "WARN",
    "Doctor",
    "Finding",
    "Probe",
    "Report",
    "capabilities",
    "connection_cause",
    "cors",
    "cors_rule",
    "fetch",
    "mask",
    "merged_cors",
    "origin_error",
    "preflight",
    "public_read_policy",
    "region",
    "upload_rule",
]
