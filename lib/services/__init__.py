"""Use cases. Each entry point takes the acting user and checks what they may do: this package
is the only door to the data for pages and HTTP routes."""
