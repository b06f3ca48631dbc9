"""Pure-numpy compute kernels for the CNN plugin ops (NCHW layout, no autograd).

Every function takes and returns plain numpy arrays, keeps the input's floating dtype (float32
stays float32), validates its arguments with errors that name the op, and is linear in each array
argument where the math is, so the autograd ops can use one kernel as another's gradient:

==========================  ======================================================
forward                     gradients
==========================  ======================================================
``conv2d(x, w, b)``         x: ``conv_transpose2d``, w: ``conv2d_weight``,
                            b: ``conv2d_bias_grad``
``max_pool2d(x)``           x: ``max_pool2d_backward`` (its own gradient:
                            ``max_pool2d_gather``)
``avg_pool2d(x)``           x: ``avg_pool2d_backward`` (its own gradient: ``avg_pool2d``)
``sum_pool2d(x)``           x: ``sum_pool2d_backward`` (its own gradient: ``sum_pool2d``)
==========================  ======================================================

Their runtime lives here too, not in minigrad (which knows nothing of convolution):
``threads.py`` is the thread pool the kernels split their work over the batch on
(``mg.set_num_threads`` sets the count), ``scratch.py`` the per-thread memory reused for
temporaries, and ``malloc.py`` the allocator tuning applied on the pool's first use, i.e. a
program's first conv or pooling call, not this import: glibc's malloc thresholds are raised
once, so that the large temporaries of each training step are reused instead of page-faulting
in afresh (``MINIGRAD_NO_MALLOC_TUNING=1`` turns it off).
"""

from .columns import col2im, im2col
from .conv import conv2d, conv2d_bias_grad, conv2d_weight, conv_transpose2d
from .geometry import (
    ConvGeometry,
    PoolGeometry,
    conv2d_geometry,
    conv2d_output_size,
    conv2d_padding,
    pair,
    pool2d_geometry,
    pool2d_output_size,
    pool_output_length,
)
from .pool_max import max_pool2d, max_pool2d_backward, max_pool2d_gather
from .pool_sum import (
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_divisor,
    sum_pool2d,
    sum_pool2d_backward,
)

__all__ = [
    "ConvGeometry",
    "PoolGeometry",
    "avg_pool2d",
    "avg_pool2d_backward",
    "avg_pool2d_divisor",
    "col2im",
    "conv2d",
    "conv2d_bias_grad",
    "conv2d_geometry",
    "conv2d_output_size",
    "conv2d_padding",
    "conv2d_weight",
    "conv_transpose2d",
    "im2col",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_gather",
    "pair",
    "pool2d_geometry",
    "pool2d_output_size",
    "pool_output_length",
    "sum_pool2d",
    "sum_pool2d_backward",
]
