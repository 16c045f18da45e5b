"""newslens: a reproducible Chinese news analysis pipeline.

Chinese news from many sources goes in; out come the companies mentioned, how favourably each is
treated per source and over time, and the evidence sentences behind every number. Each step is a
library function with plain arguments; `pipeline.cli` is the thin layer DVC calls.
"""

__version__ = "0.1.0"
