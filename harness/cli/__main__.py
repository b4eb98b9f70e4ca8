"""``python -m dnschaos.cli``: the ``dnschaos`` command."""

import sys

from dnschaos.cli import main

sys.exit(main())
