import sys

from trials.cli.main import main

sys.exit(main())
