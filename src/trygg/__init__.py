"""Trygg: school–home communication where the municipality's guidelines are part of the software."""

__version__ = "0.1.0"
