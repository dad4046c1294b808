"""The pure domain: names, the lifecycle, the row, jobs, placement rules and errors. No Azure imports."""
