"""``python -m actorbench.cli ...``: the same as the ``actorbench`` command."""

from actorbench.cli import main

main()
