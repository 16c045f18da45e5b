import signal
import sys

from pipeline.cli import main

# `python -m pipeline compare A B | head` should stop quietly, like any Unix filter.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
sys.exit(main())
