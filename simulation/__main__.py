"""``python -m simulation``: simulated shoppers for a running kiosk (``simulation.shoppers``)."""

from simulation.shoppers import main

raise SystemExit(main())
