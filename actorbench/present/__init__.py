"""Presentation without ipywidgets, for the dashboard, the notebook's reprs and the CLI.

``html``: the HTML builder and its one escaper; ``words``: counts, sizes, durations, times and
statuses as people read them; ``palette``: the status colours; ``progress``: the adapters of the
sync's ``ProgressEvent`` (a tqdm bar, a meter in words). Nothing here touches a widget.
"""
