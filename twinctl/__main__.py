"""``python -m twinctl`` runs the same CLI as the ``twinctl`` script (no install step needed)."""

from twinctl.main import main

main()
