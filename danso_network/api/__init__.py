"""JSON API under ``/api/v1`` with bearer tokens and an OpenAPI 3.1 document (DESIGN.md §6).

The API calls the same services as the HTML views: no business rule is written twice."""
