"""What the operator runs beside the server: backups and their restore (docs/operations.md)."""
