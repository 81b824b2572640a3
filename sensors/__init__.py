"""Shopper presence from a RealSense depth camera, a webcam or a simulation. No Qt here."""
