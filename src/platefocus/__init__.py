"""platefocus: restore out-of-focus microscopy plates and measure what changed."""

__version__ = "0.1.0"
