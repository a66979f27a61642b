"""A guided start for a new province (issue #12, item 6): what is in place and what is missing."""
