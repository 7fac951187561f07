"""Seismo streams."""
