"""CNN operations for minigrad (convolution, pooling, activations, losses), loaded as plugins."""
