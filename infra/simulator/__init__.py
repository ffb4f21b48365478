"""The closed-loop simulator: sample-data children using the real chat service for weeks.

Why ``infra/``: the simulator is the world outside the product. It acts out the hidden truth that
the sample-data generator (``infra/sample_data``) keeps — the same ``UserTruth`` and the same
choice model (``infra.sample_data.behaviour``) — and it talks to the service only the way a
client app does, over HTTP. It imports nothing from ``serving`` or ``models`` (the layers it
tests), so the ranker can never see the truth through it, and both the CLI (``naviyam simulate``)
and the Dagster job (``orchestration/simulation``) can use it without an import cycle.

Modules: ``world`` (children, shops, menus, the card issuer), ``phrasing`` (what a child types:
a Korean phrasing model of its own, not the NLU's training grammar), ``choice`` (which
recommendation a child looks at, orders and how they rate it), ``client`` (the HTTP calls),
``runner`` (simulated days), ``report`` (per-day table, plot, MLflow).
"""
