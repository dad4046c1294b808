"""Adapters that deliver lifecycle events: the Event Grid topic, callback webhooks, DNS checks.

The event itself is pure (controlplane.domain.events); the rules for callback URLs too
(controlplane.domain.callbacks). Only the ``publish_event`` activity calls these.
"""
