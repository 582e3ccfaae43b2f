"""The control plane: tenants, users and keys over HTTP (``/admin``) and the CLI."""
