"""Batches (``/v1/batches``): the input file checked up front (``lines.py``), the queue a worker
claims work from (``queue.py``), the worker that runs each line through the pipeline as the
batch's creator (``worker.py``), the result files (``results.py``), and the batches forwarded to a
provider's own batch API instead (``native.py``)."""
