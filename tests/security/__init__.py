"""Security tests: one module per point of issue 18 (a penetration test), and office key rotation."""
