"""Processing jobs: the durable queue (``queue``), the worker (``worker``) and the pipeline it
runs per video (``pipeline``); ``rules`` and ``outputs`` are the pure decisions behind them."""
