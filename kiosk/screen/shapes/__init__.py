"""draw.io's shapes painted with Qt: basic outlines, shapes draw.io draws in code, and library stencils."""
