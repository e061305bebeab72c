"""The words for kinds, states and timeline events, in the procuratorate's own terms (SPEC §10)."""

from __future__ import annotations

from bot.i18n import N_, Translator

KIND_LABELS = {
    "suggestion": N_("Suggestion"),
    "criticism": N_("Criticism"),
    "opinion": N_("Opinion"),
    "report": N_("Report"),
    "accusation": N_("Accusation"),
    "appeal": N_("Appeal"),
}

STATE_LABELS = {
    "registered": N_("Registered"),
    "assigned": N_("Assigned"),
    "in_progress": N_("Being handled"),
    "concluded": N_("Concluded"),
    "replied": N_("Replied"),
    "rated": N_("Rated"),
    "closed": N_("Closed"),
    "transferred": N_("Transferred"),
    "reopened": N_("Being handled again"),
}

EVENT_LABELS = {
    "registered": N_("Registered"),
}

VIA_LABELS = {
    "chat": N_("by chat"),
    "letter": N_("by letter"),
    "meeting": N_("at a meeting"),
    "visit": N_("on a visit"),
    "phone": N_("by phone"),
    "other": N_("other"),
}


def kind_label(_: Translator, kind: str) -> str:
    return _(KIND_LABELS[kind])


def state_label(_: Translator, state: str) -> str:
    return _(STATE_LABELS[state])


def event_label(_: Translator, event: str) -> str:
    return _(EVENT_LABELS[event]) if event in EVENT_LABELS else event
