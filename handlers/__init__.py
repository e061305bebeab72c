"""Use cases, grouped by area (matters/, liaison/, oversight/, reports/, people/), with what every area uses at
the top (common, menu, dialogue, dialog_state, picker, labels) and routes.py, the only wiring. Each use case takes
a Context and changes state through storage."""
