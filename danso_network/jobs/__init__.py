"""Background jobs (issue #11 item 5): exports and reports too large for one request run in the
background, report their progress in the database and leave a file for their owner, kept a day.
One interface (:mod:`.services`), three engines (:mod:`.engines`): a thread pool in the web
process (the default, no server needed), an RQ queue on Redis run by ``danso worker`` (when a
Redis URL is set), and ``inline`` (at once, in the caller's thread: tests and scripts)."""
