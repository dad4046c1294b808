"""`make bench`: fleet-scale measurements (not part of `make test`). See bench/run.py."""
