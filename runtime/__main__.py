"""``python -m runtime`` is ``streamproc``."""

import sys

from runtime.cli import main

sys.exit(main())
