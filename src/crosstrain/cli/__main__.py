"""``python -m crosstrain.cli``: the same as the ``crosstrain`` command."""

from crosstrain.cli import main

main()
