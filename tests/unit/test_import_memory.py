"""Importing stays within 64 MiB of memory, however many reports or however large.

Normal suite: 1,000 reports and a 256 MiB attachment. `make hardening` sets
SECURESUBMIT_IMPORT_REPORTS=10000 and SECURESUBMIT_BIG_ATTACHMENT_MIB=2048 (the issue's
sizes). Peak memory is the child's VmHWM: ru_maxrss would include the parent's peak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPORTS = int(os.environ.get("SECURESUBMIT_IMPORT_REPORTS", "1000"))
BIG_MIB = int(os.environ.get("SECURESUBMIT_BIG_ATTACHMENT_MIB", "256"))

SETUP = r"""
import sys
from pathlib import Path
from securesubmit.core import crypto
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import create_vault

tmp, reports, big_mib = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
kdf = crypto.TEST_KDF
r = create_vault(tmp / "r.db", "passphrase one", name="Reporter", kdf=kdf)
c = create_vault(tmp / "c.db", "passphrase two", name="Coordinator", role="coordinator", kdf=kdf)
r.add_partner(c.own_card(), verified=VERIFIED_CONFIRMED)
c.add_partner(r.own_card(), verified=VERIFIED_CONFIRMED)
c.close()
for i in range(reports):
    rid = r.create_report(title=f"report {i}", category="media", description="x" * 1800).id
    r.seal_report(rid, ["Coordinator"])
r.export_bundle("Coordinator", tmp / "many.ssb")
big = tmp / "big.bin"
with open(big, "wb") as f:
    f.truncate(big_mib * 1024 * 1024)
rid = r.create_report(title="big", category="media").id
r.attach_file(rid, big, scrub=False)
r.seal_report(rid, ["Coordinator"])
r.export_bundle("Coordinator", tmp / "big.ssb")
r.close()
"""

IMPORT = r"""
import json, sys
from pathlib import Path
from securesubmit.core.service import unlock_vault

with unlock_vault(Path(sys.argv[1]), "passphrase two") as c:
    result = c.import_bundle(Path(sys.argv[2]))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"imported": len(result.imported), "rss_mib": int(hwm.split()[1]) / 1024}))
"""


def test_imports_of_many_reports_and_of_a_big_attachment_stay_under_64_mib(tmp_path: Path) -> None:
    setup = subprocess.run(
        [sys.executable, "-c", SETUP, str(tmp_path), str(REPORTS), str(BIG_MIB)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    for bundle_name, expected in (("many.ssb", REPORTS), ("big.ssb", 1)):
        result = subprocess.run(
            [sys.executable, "-c", IMPORT, str(tmp_path / "c.db"), str(tmp_path / bundle_name)],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        figures = json.loads(result.stdout)
        print(bundle_name, figures)
        assert figures["imported"] == expected
        assert figures["rss_mib"] <= 64, (bundle_name, figures)
