"""``python -m sensorhub.cli``: the same as the ``sensorhub`` console script."""

import sys

from sensorhub.cli import main

sys.exit(main())
