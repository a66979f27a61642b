"""The network report (issue #11 item 3): a year, a quarter or a month of the collaborator network
per commune and per area health centre, on a page and as XLSX and PDF files."""
