"""The fleet side of a kiosk: signed content bundles and AWS IoT's Device Shadow and Jobs.

Qt-free; it runs in the uplink process or a worker of the kiosk. ``docs/fleet.md`` is the guide
for the people who run the fleet.
"""
