"""snapmatch HTTP gateway: authenticates uploads, queues them, serves results."""
