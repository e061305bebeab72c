"""Figures and papers (SPEC §7; seed §17, §19): the measures, the half-year report and /report, the digest, the
ledger."""
