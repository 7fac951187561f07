"""Event-time windows per stream key: the clock, closing a window, references, change tests,
topics."""
