"""Benchmarks of minigrad against PyTorch CPU, measured in one run and reported as ratios.

``python -m bench`` (or ``make bench``) runs every suite for 1 and 2 threads, float32 and
float64; ``python -m bench --help`` lists the options. Importing this package imports nothing
else: thread counts and BLAS settings must be in place before numpy loads (see ``bench.env``).
"""
