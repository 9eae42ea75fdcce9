"""Benchmarks run by ``make bench`` (``python -m bench``): one ``bench_*.py`` module per area,
each with a ``main()`` that prints its result lines and returns a dict of figures."""
