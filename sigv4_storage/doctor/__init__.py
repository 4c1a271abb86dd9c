"""``manage.py s3doctor``: a live probe of one configured storage.

- ``probes``: ``Doctor`` and its table of probes (``PROBES``);
- ``region``, ``cors``: the region and CORS findings;
- ``capabilities``: with ``--write``, what the server honours (``behaviour``);
- ``report``: ``Finding``, ``Report``, the statuses, ``mask``;
- ``network``: plain HTTP as a browser sends it, and why nothing answers;
- ``fixes``: the CORS rules and bucket policy printed as fixes.

Internal: the command is the interface (``docs/api.md``). The names below are
re-exported for the command and the tests.
"""

from . import capabilities as capabilities
from . import cors as cors
from . import region as region
from .fixes import cors_rule as cors_rule
from .fixes import merged_cors as merged_cors
from .fixes import origin_error as origin_error
from .fixes import public_read_policy as public_read_policy
from .fixes import upload_rule as upload_rule
from .network import connection_cause as connection_cause
from .network import fetch as fetch
from .network import preflight as preflight
from .probes import PROBES as PROBES
from .probes import Doctor as Doctor
from .probes import Probe as Probe
from .report import FAIL as FAIL
from .report import OK as OK
from .report import SKIP as SKIP
from .report import WARN as WARN
from .report import Finding as Finding
from .report import Report as Report
from .report import mask as mask
