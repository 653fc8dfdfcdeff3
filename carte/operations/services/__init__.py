"""Writes of running a service, one module per part (the one way in, DESIGN.md):
`kpis` (KPIs), `measurements` (recording their values), `feeds` (calendar feeds), `levels`
(service-level targets), `items` (risks, issues, actions, escalation) with its table
`item_moves`, `changes` (change requests; the improvement log and feedback are written
through it too), `improvements`, `feedback`, `common` (what these three share), `notices`
(recording a notice, once per recipient and key), `notify` (the sweep that finds what is
due and the e-mails)."""
