"""Development tools: the traffic generator, the publisher, the fault hook (injected, never
imported by the service)."""
