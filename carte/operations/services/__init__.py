"""Writes of running a service, one module per part (the one way in, DESIGN.md):
`kpis` (KPIs), `measurements` (recording their values), `feeds` (calendar feeds), `levels`
(service-level targets), `items` (risks, issues, actions, escalation), `changes` (change
requests, improvements, feedback), `notices` (recording a notice, once per recipient and
key), `notify` (the sweep that finds what is due and the e-mails)."""
