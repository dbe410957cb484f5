"""The HTTP API: caseworkers, supervisors and auditors at work. OpenAPI at /docs."""
