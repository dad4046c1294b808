"""What both the service layer and the activities need to start or feed a workflow.

Data flows one way, HTTP → service → orchestration → activity → adapter; an activity that needs a
job's input, a guarded Durable client call, a singleton start, the history purge or a bake's probe
page finds it here, one layer below the service, so it never imports the service layer (checked by
``lint-imports``, see docs/architecture.md). This package imports the domain, the settings and the
adapters, never ``controlplane.service`` or HTTP.
"""
