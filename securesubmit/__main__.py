"""``python -m securesubmit``."""

from securesubmit.cli import run

run()
