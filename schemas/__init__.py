"""Seismo schemas."""
