"""labs room."""
