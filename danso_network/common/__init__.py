"""Small rules every feature uses, written once: Vietnam's clock (``clock``), pages counted and
sliced in SQL (``paging``), query-string arguments with their bounds (``params``) and the view
helpers that load an object in scope and run one service (``views``)."""
