"""ClickHouse: the client, batched sinks, reads from other processes, retention, salt, forget."""
