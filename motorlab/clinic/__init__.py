"""The therapist's side: clients, goals and session history of one clinic dataset."""

from .clients import Client, ClientRegistry, make_client
from .dataset import derivatives_dir, resolve_data_root
from .goals import GasLevel, Goal, GoalStore, attained_level, make_goal
from .history import SessionInfo, client_sessions, find_session
from .metric_catalog import GOAL_METRICS, GoalMetric, goal_metric

__all__ = [
    "GOAL_METRICS",
    "Client",
    "ClientRegistry",
    "GasLevel",
    "Goal",
    "GoalMetric",
    "GoalStore",
    "SessionInfo",
    "attained_level",
    "client_sessions",
    "derivatives_dir",
    "find_session",
    "goal_metric",
    "make_client",
    "make_goal",
    "resolve_data_root",
]
