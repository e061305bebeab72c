"""The matter's life in one place (SPEC §4, seed §12-§14): its states (`states`), the matter itself
(`model`) and the rules of each transition (`life`) — which exist from which state, who takes them, what
each requires and what the due date becomes. Pure: no I/O. Handlers ask `life` and carry out the `Step`
it returns; storage saves it.
"""
