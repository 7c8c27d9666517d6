"""The control plane's Celery worker: parent executions and Map Run coordination."""
