"""stepmap control plane.

Kept empty on purpose: importing :mod:`orchestrator.asl` (which the workers do)
must not pull in the API, Redis or S3 code.
"""
