"""The Qt application shoppers touch: the only package that imports Qt."""

import ctypes
import sys

# PySide6 6.12.0 under Python 3.11 drops one reference to None each time Python calls a
# Qt method that returns nothing (QPointF.setX, QFont.setBold, QPainter.drawPath, ...):
# after a few thousand calls CPython aborts with "none_dealloc: deallocating None". Python
# 3.12 made None, True and False immortal, which hides the bug; on 3.11 we give them the
# same near-infinite reference count before any Qt code runs. Remove once PySide6 is fixed
# or the project requires Python >= 3.12.
if sys.version_info < (3, 12):
    for _singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(_singleton)).value += 1 << 40
    del _singleton
