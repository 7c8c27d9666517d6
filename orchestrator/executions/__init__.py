"""Executions service: the Step Functions operations on state machines, executions and Map Runs."""
