"""CNN operations for minigrad (convolution, pooling, activations, losses), loaded as plugins.

Dtype rule, the same for every op here: data inputs (images, weights, activations, scores,
probabilities, gradients) are real floating point, ``float16``, ``float32`` or ``float64``, and
the output keeps that dtype (numpy's promotion when two float widths meet). Integer, bool and
complex inputs raise ``TypeError`` naming the op, the argument and the dtype; nothing is cast
silently. Index-like inputs (class indices, labels, max-pooling offsets) are the exceptions
listed in ``layers_plugins._dtypes``.
"""
