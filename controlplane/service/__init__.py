"""The service layer: what each API operation decides (placement, quota, fencing), over the registry and Durable.

HTTP routes parse and answer; everything they decide lives here, so the same rules hold for any caller.
"""
