from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files; ES module imports are rewritten to the hashed names too,
    so a browser never mixes modules of two releases from its cache."""

    support_js_module_import_aggregation = True
