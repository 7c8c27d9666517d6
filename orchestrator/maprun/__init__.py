"""Map Run coordination: feeding items, dispatching children, counting, finishing."""
