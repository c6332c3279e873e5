"""Discover a journey map from an event log (issue #18).

An event log (the CSV the event import reads, or XES, IEEE 1849) is read once, streaming,
into a bounded summary (``mining.LogSummary``): which activities happen, where in their
cases, which follow which, where cases end, the main variants. A proposal
(``mining.propose``) turns the summary into steps, links and end steps for thresholds the
owner picks; ``services.discovered_map_create`` writes it through the editor's services.

* ``logs``: the readers (CSV shares ``maps.analytics``' reading; ``xes``: XES).
* ``mining``: the summary and the proposal, no database.
* ``store``: the upload kept between the proposal page and "Create map".
* ``services``: creating the map (and importing the log's figures into it).
"""
