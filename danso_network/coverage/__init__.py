"""Coverage of the collaborator network as of a date: per hamlet a status (covered, below quota,
vacant, pending, unknown) and aggregates per commune, area health centre, province and nationally.

``services`` holds the SQL that feeds the computation and the public functions; ``rules`` the pure
pandas functions over the frames. The package reads; it owns no workflow state (DESIGN.md §4)."""
