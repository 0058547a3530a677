"""The dashboard's server process: Voila locked down (``voila_server``), its security rules
(``security``), its command line (``command``) and its data files (``paths``: the page
template and the dashboard notebook, shipped as package data).

Nothing here imports ipywidgets or ``actorbench.ui``: the widgets live in the kernels.
"""
