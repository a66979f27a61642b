"""Backups and restores of one installation (issue #14 item 5): ``danso backup FILE`` and
``danso restore FILE`` — the database and the files kept beside it, in one archive."""
