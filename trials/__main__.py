import sys

from trials.cli import main

sys.exit(main())
