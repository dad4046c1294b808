"""The brainstem control plane's domain and adapters.

Layers point one way: entry points (HTTP routes, orchestrators, activities) use this package;
the pure domain (``naming``, ``lifecycle``, ``errors``) imports nothing from Azure; adapters
(``registry``, the ARM modules) are the only places that import Azure SDKs.
"""
