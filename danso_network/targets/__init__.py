"""Annual targets of each commune's collaborator network, set by the province or the area health
centre and judged against the year's actual figures (issue #11 item 4)."""
