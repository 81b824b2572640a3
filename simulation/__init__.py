"""Developer tools that drive the kiosk from outside, as a store's traffic would.

- ``python -m simulation`` (``simulation.shoppers``): simulated shoppers walking up to a running
  kiosk and touching its screen through its control socket.
- ``python -m simulation.pipeline``: the whole system on one machine (Redis, a local MQTT
  broker, the analysts' receiver, the kiosk and the shoppers), each in its own process.

Not part of the app: nothing here imports Qt or ``kiosk``, and the package is not in the
installed wheel; run it from a clone of the repository.
"""
