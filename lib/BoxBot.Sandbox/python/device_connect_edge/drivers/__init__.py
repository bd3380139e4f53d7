"""device_connect_edge.drivers: the decorators plugins use (see decorators.py)."""
