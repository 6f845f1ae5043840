"""Data-plane runtimes: the parts of the sandbox that run code instead of storing it.

Each module holds :class:`~crosstrain.sandbox.gateway.Runtime` subclasses registered in
``crosstrain.sandbox.server.RUNTIMES``.
"""
