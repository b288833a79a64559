"""`python -m bot` runs the `cablebot` command."""

import sys

from bot.cli import main

sys.exit(main())
