"""Local stand-ins for Azure (ARM, Durable host, Azurite launcher): used by tests, the offline sandbox and benchmarks; never deployed."""
