"""The Azure side: ARM clients, one adapter module per resource type, and what ARM's errors mean.

Only this package (and the registry, for Table Storage) imports Azure SDKs. Activities call it.
"""
