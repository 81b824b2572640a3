"""draw.io files -> experience model -> validation -> experience bundle. No Qt here."""
