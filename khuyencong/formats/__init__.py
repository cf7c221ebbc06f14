"""Date formats of the portal's locales (``FORMAT_MODULE_PATH``), read before Django's own."""
