"""exportctl: export-control law as code for space items.

The pipeline, one module per stage: grammar -> parse -> check -> compile -> evaluate,
with adapters (cli, pytest_plugin, docs) on top of `api`.
"""

__version__ = "0.1.0"
