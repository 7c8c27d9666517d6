"""stepmap data plane: Celery workers that run child workflows and Task handlers."""
