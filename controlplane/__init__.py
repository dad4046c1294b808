"""The brainstem control plane's domain, settings, services, workflows and adapters. Layers point one way:

    domain/     names, lifecycle, the row, jobs, placement rules, errors: pure, imports nothing else of ours
    settings/   every app setting, typed and validated once
    auth/       who is calling and for which owner they may act
    telemetry/  ids on every log line, spans and metrics (Azure Monitor when configured)
    registry/   the registry on Azure Table Storage (rows, owner copies, counts, capacity, ARM budget)
    arm/        Azure Resource Manager: clients, one adapter per resource type, error meaning
    events/     lifecycle events: Event Grid, signed callback webhooks
    monitor/    the Log Analytics query behind a rollout's error-rate gate
    twins/      talking to a brainstem's own routes (readiness, probes), never to ARM
    workflows/  what the service and the activities share (job inputs, Durable client calls, reconcile)
    service/    what each API operation decides, over the registry and the Durable client

``http_api/`` and ``activities/`` use these packages and none of them imports either;
``orchestrators/`` import only ``domain/``. Only the adapters (``registry/``, ``arm/``, ``events/``, ``monitor/``) import an
Azure service SDK. ``lint-imports`` checks the layers (``.importlinter``; docs/architecture.md, Layers).
"""
