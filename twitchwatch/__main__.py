"""``python -m twitchwatch`` is the ``twitchwatch`` command."""

import sys

from twitchwatch.cli import main

sys.exit(main())
