"""The files the kiosk ships with (the default config, the demo experience, the published JSON
schemas). Installed, this folder is the package ``kiosk_resources`` (pyproject.toml's
``package-dir``); read it through ``settings.resources``, never by a path of its own."""
