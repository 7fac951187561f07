"""The ``seismo`` command, one module per command group."""
