"""Batches run by the gateway itself (``/v1/batches``): the input file checked up front
(``lines.py``), the queue a worker claims work from (``queue.py``), the worker that runs each line
through the pipeline as the batch's creator (``worker.py``), and the result files (``results.py``)."""
