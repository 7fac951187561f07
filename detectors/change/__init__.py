"""Window change tests on scalars: distributions, rates, SLOs."""
