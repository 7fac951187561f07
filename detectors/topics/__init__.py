"""Topics of embedded texts: clustering, keywords, 2-D projection."""
