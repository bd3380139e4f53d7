"""A small stand-in for Device Connect's edge package, enough for plugins written for the reference to import and run
inside a boxbot sandbox job: `from device_connect_edge.drivers.decorators import rpc, emit`. Not the real package."""
