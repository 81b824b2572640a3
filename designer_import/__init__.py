"""draw.io files -> experience model -> validation -> experience bundle. No Qt here.

``load_experience(path)`` reads a drawing (``.drawio``, ``.xml``, ``.drawio.svg``,
``.drawio.png``) or a built bundle folder into the model of ``designer_import.model``;
``validate(experience)`` lists what an artist should fix; ``build_bundle(path, out_dir)``
writes the bundle a kiosk loads. Bad input raises ``DrawioError`` with one clear line.
"""

from designer_import.bundle import build_bundle, load_bundle
from designer_import.errors import DrawioError
from designer_import.loader import load_experience, load_experience_bytes
from designer_import.validate import Finding, validate

__all__ = [
    "DrawioError",
    "Finding",
    "build_bundle",
    "load_bundle",
    "load_experience",
    "load_experience_bytes",
    "validate",
]
