"""Developer tooling that runs next to the product, never inside a worker.

Unlike the rest of ``letta_batch`` (which stays free of Temporal so services and activities can
be tested without it), these modules are client-side tools and may import ``temporalio``,
``workflows`` and ``activities``: today the replay-corpus recorder behind
``letta-batch dev record-histories``.
"""
