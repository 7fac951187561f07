"""Seismo grafana."""
