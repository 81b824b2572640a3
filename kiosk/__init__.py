"""The Qt application shoppers touch: the only package that imports Qt."""
