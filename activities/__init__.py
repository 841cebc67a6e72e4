"""Temporal activities: thin adapters from the Temporal boundary to the domain services."""

from activities.step_activities import StepActivities

__all__ = ["StepActivities"]
