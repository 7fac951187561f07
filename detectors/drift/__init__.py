"""Two-sample drift tests on embeddings: MMD, centroid distance, cluster shares."""
