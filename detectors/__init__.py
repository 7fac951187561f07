"""Seismo detectors: pure numpy/scipy statistics."""
