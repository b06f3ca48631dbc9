"""Pooling: max, average and sum pooling over NCHW windows, global pooling, and their companions.

Windows follow PyTorch: ``stride`` defaults to ``kernel_size``, ``padding`` (at most half the
kernel) adds cells that never win a max and count as zeros in a sum, and ``ceil_mode`` keeps a
last partial window that starts inside the input or its left padding.

Every backward pass is written with ``mg.ops`` calls, so it can be drawn and differentiated
again (``create_graph=True``). With ``u`` the incoming gradient and the same window attributes:

=================================================  =============================================
op                                                 gradient
=================================================  =============================================
``y = max_pool2d(x)`` (saves ``offsets``)          x: ``max_unpool2d(u, offsets, x_hw)``
``dx = max_unpool2d(g, offsets, x_hw)``            g: ``max_pool2d_gather(u, offsets)``
``y = max_pool2d_gather(x, offsets)``              x: ``max_unpool2d(u, offsets, x_hw)``
``y = avg_pool2d(x)``                              x: ``avg_unpool2d(u, x_hw)``
``dx = avg_unpool2d(g, x_hw)``                     g: ``avg_pool2d(u)``
``y = sum_pool2d(x)``                              x: ``sum_unpool2d(u, x_hw)``
``dx = sum_unpool2d(g, x_hw)``                     g: ``sum_pool2d(u)``
``global_max_pool2d(x)``, ``global_avg_pool2d(x)``  core ops (``where``, ``reshape``, ``expand``)
=================================================  =============================================

``offsets`` is a small unsigned integer array, one entry per output cell: the position
``i * kw + j`` of the window's winner. It enters ``max_unpool2d`` and ``max_pool2d_gather`` as
a tensor input (it gets no gradient), so graphs show where the winners come from.

Dtypes: the pooled values and gradients are float16, float32 or float64 and keep their dtype;
integer, bool and complex ones raise ``TypeError`` naming the op (see
``layers_plugins._dtypes``). Only ``offsets`` is an integer input.
"""

from .pooling_avg import AvgPool2d, AvgUnpool2d, SumPool2d, SumUnpool2d
from .pooling_global import GlobalAvgPool2d, GlobalMaxPool2d
from .pooling_max import MaxPool2d, MaxPool2dGather, MaxUnpool2d

__all__ = [
    "AvgPool2d",
    "AvgUnpool2d",
    "GlobalAvgPool2d",
    "GlobalMaxPool2d",
    "MaxPool2d",
    "MaxPool2dGather",
    "MaxUnpool2d",
    "SumPool2d",
    "SumUnpool2d",
]
