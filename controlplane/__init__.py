"""The brainstem control plane's domain, settings, services and adapters. Layers point one way:

    domain/     names, lifecycle, the row, jobs, placement rules, errors — pure, no Azure imports
    settings/   every app setting, typed and validated once
    auth/       who is calling and for which owner they may act
    registry/   the registry on Azure Table Storage (rows, owner copies, counts, capacity)
    arm/        Azure Resource Manager: clients, one adapter per resource type, error meaning
    service/    what each API operation decides, over the registry and the Durable client

Entry points (``http_api/``, ``orchestrators/``, ``activities/``) use these packages; only
``registry/`` and ``arm/`` import Azure SDKs.
"""
