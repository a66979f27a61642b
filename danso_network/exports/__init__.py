"""Files out of the application (CSV, XLSX, …). Every cell goes through :mod:`.writer`."""
