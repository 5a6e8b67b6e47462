"""Background work (docs/architecture.md, "Background tasks"): e-mail delivery with retries and the
periodic jobs, run by Huey's worker (``sprechzimmer run_huey``) beside the server."""
