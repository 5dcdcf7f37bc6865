"""routing: makes a municipality's telephone policy true on every call through Asterisk."""

__version__ = "0.1.0"
