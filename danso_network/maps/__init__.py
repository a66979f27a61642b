"""Coverage maps: a folium shell per page, and the GeoJSON layers its script fetches (DESIGN.md §7)."""
