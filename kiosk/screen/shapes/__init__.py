"""draw.io's shapes painted with Qt.

Basic outlines, the shapes draw.io draws in code, and library stencils.
"""
